package io.vioplane.perf.e1000;

import io.vioplane.e1000.E1000Counter;
import io.vioplane.e1000.E1000Device;
import io.vioplane.e1000.E1000Registers;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.virtionet.port.DiscardPort;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static io.vioplane.e1000.E1000Registers.*;

/**
 * The cost of the 82540EM model's transmit emulation per TDT write, as a guest's driver causes it: the register
 * dispatch, the ring mapping, descriptor fetch, the gather into the packet buffer, offload work and the hand-off to
 * a port that discards ({@link DiscardPort}). Each invocation is one doorbell for one packet:
 * <ul>
 *   <li>{@code legacy64}: one legacy descriptor, a 64-byte frame, RS (descriptor fetch and write-back);
 *   <li>{@code checksum1500}: a context descriptor and a data descriptor for a 1514-byte TCP frame with IP and TCP
 *       checksum offload;
 *   <li>{@code tso64k}: a TSO context and a data descriptor for a 64 KiB TCP send, segmented at MSS 1460 into 45
 *       frames, each with its IP and TCP checksums computed.
 * </ul>
 * The score is in microseconds per packet (per doorbell); {@code gc.alloc.rate.norm} must be 0 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class E1000TransmitBenchmark {
    private static final long MEMORY_GPA = 0x10_0000L;
    private static final long RING_GPA = MEMORY_GPA;
    private static final long BUFFER_GPA = MEMORY_GPA + 0x1_0000;
    private static final int RING_SIZE = 256;
    private static final int EOP = 0x01;
    private static final int RS = 0x08;
    private static final int TSE = 0x04;
    private static final int DEXT = 0x20;
    private static final int DTYP_DATA = 1 << 20;

    @Param({"legacy64", "checksum1500", "tso64k"})
    public String packet;

    private GuestMemory memory;
    private E1000Device device;
    private int tail;
    private int descriptorsPerPacket;

    @Setup
    public void setUp() {
        memory = GuestMemory.ofMemFd(MEMORY_GPA, 0x20_0000);
        device = new E1000Device(memory, new DiscardPort(), level -> { }, System::nanoTime, 0x5634_1200_5452L,
            CounterSet.unpublished(E1000Counter.class));
        device.mmioWrite(TDBAL, 4, RING_GPA);
        device.mmioWrite(TDLEN, 4, RING_SIZE * E1000Registers.DESCRIPTOR_BYTES);
        device.mmioWrite(TCTL, 4, TCTL_EN);
        final int payload = switch (packet) {
            case "legacy64" -> 64 - 54;
            case "checksum1500" -> 1460;
            default -> 65536 - 54;
        };
        final byte[] frame = tcpFrame(payload);
        memory.writeBytes(BUFFER_GPA, frame);
        descriptorsPerPacket = packet.equals("legacy64") ? 1 : 2;
        for (int i = 0; i < RING_SIZE; i += descriptorsPerPacket) {
            if (descriptorsPerPacket == 1) {
                descriptor(i, BUFFER_GPA, frame.length | ((EOP | RS) << 24), 0);
            } else {
                final boolean tso = packet.equals("tso64k");
                final long offsets = 14 | (24 << 8) | (33L << 16) | ((long) (34 | (50 << 8)) << 32);
                final int tucmd = 0x01 | 0x02 | DEXT | (tso ? TSE : 0);
                descriptor(i, offsets, (tso ? payload : 0) | (tucmd << 24), tso ? (54 << 8) | (1460 << 16) : 0);
                descriptor(i + 1, BUFFER_GPA, frame.length | DTYP_DATA | ((EOP | RS | DEXT | (tso ? TSE : 0)) << 24),
                    0x03 << 8);
            }
        }
    }

    private void descriptor(final int index, final long address, final int lower, final int upper) {
        final long at = RING_GPA + 16L * index;
        memory.putLong(at, address);
        memory.putInt(at + 8, lower);
        memory.putInt(at + 12, upper);
    }

    private static byte[] tcpFrame(final int payload) {
        final ByteBuffer frame = ByteBuffer.allocate(54 + payload);
        frame.put(new byte[] {2, 0, 0, 0, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}).putShort((short) 0x0800);
        frame.put((byte) 0x45).put((byte) 0).putShort((short) Math.min(0xFFFF, 40 + payload)).putShort((short) 1)
            .putShort((short) 0x4000).put((byte) 64).put((byte) 6).putShort((short) 0);
        frame.putInt(0x0A00_0001).putInt(0x0A00_0002).putShort((short) 40000).putShort((short) 5001);
        frame.putInt(1).putInt(0).put((byte) 0x50).put((byte) 0x18).putShort((short) 65535).putInt(0);
        return frame.array();
    }

    /** One doorbell: TDT advanced past one packet's descriptors, which the device transmits before returning. */
    @Benchmark
    public int doorbell() {
        tail = (tail + descriptorsPerPacket) % RING_SIZE;
        device.mmioWrite(TDT, 4, tail);
        return tail;
    }

    @TearDown
    public void tearDown() {
        device.close();
        memory.close();
    }
}
