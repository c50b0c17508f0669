package io.vioplane.tap.capture;

import io.vioplane.platform.runtime.CounterKind;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import io.vioplane.virtionet.port.TxFrame;

/**
 * Records frames from the data plane into a Chronicle Queue journal in a directory, off the data plane's
 * critical section: {@link #record} copies the frame (up to the snap length) into a one-to-one ring in our own
 * memory and returns; a capture thread drains the ring into the journal. When the ring is full the record is
 * dropped and counted; the data plane never waits for the disk.
 *
 * <p>One producer thread (the data plane) and one consumer (the capture thread). Ports are named with
 * {@link #registerPort} so the exported file can say which port saw each frame.
 */
public final class PacketCapture implements AutoCloseable {
    /** Default bytes kept per frame. */
    public static final int DEFAULT_SNAP_BYTES = 65535;
    /** Default ring capacity (a power of two). */
    public static final int DEFAULT_RING_BYTES = 16 << 20;

    private final Path directory;
    private final int snapBytes;
    private final OneToOneRingBuffer ring;
    private final UnsafeBuffer ringBuffer;
    private final CounterSet<CaptureCounter> counters;
    private final ChronicleQueue queue;
    private final Thread writer;
    private final byte[] drainScratch;
    private final MemorySegment ringMemory;
    private volatile boolean running = true;
    private final long clockOffsetNs;
    private final AtomicLong journaled = new AtomicLong();

    /**
     * Opens (or appends to) the journal in {@code directory} and starts the capture thread.
     *
     * @param snapBytes bytes kept per frame
     * @param ringBytes bytes of the data-plane-to-capture ring (a power of two)
     */
    public PacketCapture(final Path directory, final int snapBytes, final int ringBytes, final Counters counters) {
        this.directory = directory;
        this.snapBytes = snapBytes;
        final int capacity = ringBytes + RingBufferDescriptor.TRAILER_LENGTH;
        this.ringBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity, 64));
        this.ringMemory = MemorySegment.ofAddress(ringBuffer.addressOffset()).reinterpret(capacity);
        this.ring = new OneToOneRingBuffer(ringBuffer);
        this.counters = new CounterSet<>(counters, CaptureCounter.class, "capture[" + directory + "]",
                CounterType.PORT);
        this.drainScratch = new byte[snapBytes + CaptureRecord.DATA];
        this.queue = ChronicleQueue.singleBuilder(directory).build();
        this.clockOffsetNs = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
        this.writer = new Thread(this::drainLoop, "vioplane-capture");
        writer.setDaemon(true);
        writer.start();
    }

    /** @return the journal's directory */
    public Path directory() {
        return directory;
    }

    /** Names port {@code portId} in the journal. */
    public void registerPort(final int portId, final String name) {
        final byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        final UnsafeBuffer message = new UnsafeBuffer(new byte[2 + bytes.length]);
        message.putShort(0, (short) portId, ByteOrder.LITTLE_ENDIAN);
        message.putBytes(2, bytes);
        while (!ring.write(CaptureRecord.PORT_NAME_TYPE, message, 0, message.capacity())) {
            Thread.onSpinWait();
        }
    }

    /**
     * Records one frame lying in {@code source} (data-plane thread): copies at most the snap length.
     *
     * @return false if the ring was full and the record was dropped (counted)
     */
    public boolean record(final int portId, final int direction, final MemorySegment source, final long offset,
                          final int lengthBytes) {
        final int claimed = claim(portId, direction, lengthBytes);
        if (claimed < 0) {
            return false;
        }
        MemorySegment.copy(source, offset, ringMemory, claimed + CaptureRecord.DATA, Math.min(lengthBytes, snapBytes));
        ring.commit(claimed);
        return true;
    }

    /**
     * Records one frame that may be spread over guest memory (data-plane thread).
     *
     * @return false if the ring was full and the record was dropped (counted)
     */
    public boolean record(final int portId, final int direction, final TxFrame frame) {
        final int lengthBytes = frame.lengthBytes();
        final int claimed = claim(portId, direction, lengthBytes);
        if (claimed < 0) {
            return false;
        }
        frame.copyTo(0, ringMemory, claimed + CaptureRecord.DATA, Math.min(lengthBytes, snapBytes));
        ring.commit(claimed);
        return true;
    }

    private int claim(final int portId, final int direction, final int lengthBytes) {
        final int claimed = ring.tryClaim(CaptureRecord.MESSAGE_TYPE, CaptureRecord.DATA + Math.min(lengthBytes, snapBytes));
        if (claimed < 0) {
            counters.increment(CaptureCounter.DROPPED_RING_FULL);
            return -1;
        }
        ringBuffer.putLong(claimed + CaptureRecord.TIMESTAMP, clockOffsetNs + System.nanoTime(), ByteOrder.LITTLE_ENDIAN);
        ringBuffer.putShort(claimed + CaptureRecord.PORT, (short) portId, ByteOrder.LITTLE_ENDIAN);
        ringBuffer.putByte(claimed + CaptureRecord.DIRECTION, (byte) direction);
        ringBuffer.putByte(claimed + CaptureRecord.DIRECTION + 1, (byte) 0);
        ringBuffer.putInt(claimed + CaptureRecord.ORIGINAL_LENGTH, lengthBytes, ByteOrder.LITTLE_ENDIAN);
        counters.increment(CaptureCounter.RECORDED);
        return claimed;
    }

    /** @return frames recorded */
    public long recorded() {
        return counters.get(CaptureCounter.RECORDED);
    }

    /** @return records dropped because the capture thread fell behind */
    public long droppedRingFull() {
        return counters.get(CaptureCounter.DROPPED_RING_FULL);
    }

    private void drainLoop() {
        final ExcerptAppender appender = queue.createAppender();
        while (running || ring.size() > 0) {
            final int drained = ring.read((type, buffer, index, length) -> {
                buffer.getBytes(index, drainScratch, 0, length);
                appender.writeBytes(bytes -> {
                    bytes.writeInt(type);
                    bytes.writeInt(length);
                    bytes.write(drainScratch, 0, length);
                });
                if (type == CaptureRecord.MESSAGE_TYPE) {
                    journaled.incrementAndGet();
                }
            }, 256);
            if (drained == 0) {
                if (!running) {
                    break;
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        appender.close();
    }

    /** Waits until every frame recorded so far is in the journal (tests, export of a live capture). */
    public void flush() {
        final long target = counters.get(CaptureCounter.RECORDED);
        while (journaled.get() < target) {
            Thread.onSpinWait();
        }
    }

    /** Drains what is left, stops the capture thread and closes the journal. */
    @Override
    public void close() {
        running = false;
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        queue.close();
        counters.close();
    }

    /** What the capture counts. */
    enum CaptureCounter implements CounterKind {
        RECORDED("frames recorded"),
        DROPPED_RING_FULL("drops: capture ring full");

        private final String label;

        CaptureCounter(final String label) {
            this.label = label;
        }

        @Override
        public String label() {
            return label;
        }
    }
}
