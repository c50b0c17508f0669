package io.vioplane.vhostuser.backend;

import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;
import io.vioplane.platform.sys.Mmap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The shared inflight buffer of vhost-user's inflight I/O tracking (QEMU docs/interop/vhost-user.rst,
 * GET_INFLIGHT_FD and SET_INFLIGHT_FD): the back-end allocates it (a memfd, zeroed) when asked, the front-end
 * keeps it and hands it back after a reconnect, so a restarted back-end finds what its predecessor had taken and
 * not used. One {@link SplitInflightRegion} per queue, {@link SplitInflightRegion#bytesFor} bytes apart.
 *
 * <p>What SET_INFLIGHT_FD brings is checked before use: the queue count and size in range, the queue size a
 * power of two, the buffer large enough for them, and the descriptor's file really that long (a mapping past its
 * end would fault on access). Control-plane thread; the regions are then used by the data plane.
 */
public final class InflightArea implements AutoCloseable {
    private final int maxQueues;
    private Arena arena;
    private MemorySegment mapping;
    private int fd = -1;
    private int queueCount;
    private int queueSize;

    /** @param maxQueues the device's queue count: more is refused */
    public InflightArea(final int maxQueues) {
        this.maxQueues = maxQueues;
    }

    /** The answer to GET_INFLIGHT_FD. */
    public record Allocation(long mmapSizeBytes, int fd, int queueCount, int queueSize) {
    }

    private String checkShape(final int queues, final int size) {
        if (queues < 1 || queues > maxQueues) {
            return "inflight buffer for " + queues + " queues; the device has " + maxQueues;
        }
        if (size < 1 || size > 32768 || Integer.bitCount(size) != 1) {
            return "inflight queue size " + size + " is not a power of two up to 32768";
        }
        return null;
    }

    /**
     * Allocates a fresh zeroed buffer (GET_INFLIGHT_FD), replacing any earlier one.
     *
     * @throws IllegalArgumentException naming what the front-end got wrong
     */
    public Allocation allocate(final int queues, final int size) {
        final String refusal = checkShape(queues, size);
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
        close();
        final long bytes = queues * SplitInflightRegion.bytesFor(size);
        final int memfd = MemFd.create("vioplane-inflight", bytes);
        adopt(memfd, 0, bytes, queues, size);
        return new Allocation(bytes, memfd, queues, size);
    }

    /**
     * Maps the buffer the front-end hands back (SET_INFLIGHT_FD); takes ownership of {@code descriptor}.
     *
     * @throws IllegalArgumentException naming what the front-end got wrong (the descriptor is then closed)
     */
    public void use(final int descriptor, final long mmapSizeBytes, final long mmapOffsetBytes, final int queues,
                    final int size) {
        String refusal = checkShape(queues, size);
        if (refusal == null && mmapSizeBytes < queues * SplitInflightRegion.bytesFor(size)) {
            refusal = "inflight buffer of " + mmapSizeBytes + " bytes is too small for " + queues + " queues of "
                    + size + " (" + queues * SplitInflightRegion.bytesFor(size) + " bytes)";
        }
        if (refusal == null && (mmapOffsetBytes < 0 || (mmapOffsetBytes & 4095) != 0)) {
            refusal = "inflight mmap_offset " + mmapOffsetBytes + " is not page-aligned";
        }
        if (refusal == null) {
            final long fileBytes = FileIo.sizeOf(descriptor);
            if (mmapSizeBytes > fileBytes || mmapOffsetBytes > fileBytes - mmapSizeBytes) {
                refusal = "inflight buffer [" + mmapOffsetBytes + ", +" + mmapSizeBytes + ") lies past the end of its "
                        + fileBytes + "-byte file";
            }
        }
        if (refusal != null) {
            FileIo.closeQuietly(descriptor);
            throw new IllegalArgumentException(refusal);
        }
        close();
        adopt(descriptor, mmapOffsetBytes, mmapSizeBytes, queues, size);
    }

    private void adopt(final int descriptor, final long offset, final long bytes, final int queues, final int size) {
        final Arena fresh = Arena.ofShared();
        try {
            mapping = Mmap.map(descriptor, offset, bytes, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED, fresh);
        } catch (RuntimeException e) {
            fresh.close();
            FileIo.closeQuietly(descriptor);
            throw e;
        }
        arena = fresh;
        fd = descriptor;
        queueCount = queues;
        queueSize = size;
    }

    /** @return true once a buffer is mapped */
    public boolean present() {
        return mapping != null;
    }

    /**
     * @return queue {@code index}'s region for a ring of {@code ringSize}, or null (with no buffer, a queue
     *     beyond the buffer's count, or a ring of another size than the buffer's)
     */
    public SplitInflightRegion region(final int index, final int ringSize) {
        if (mapping == null || index < 0 || index >= queueCount || ringSize != queueSize) {
            return null;
        }
        final long bytes = SplitInflightRegion.bytesFor(queueSize);
        return new SplitInflightRegion(mapping.asSlice(index * bytes, bytes), queueSize);
    }

    /** @return a description for logs */
    public String describe() {
        return mapping == null ? "none" : queueCount + " queue(s) of " + queueSize;
    }

    /** Unmaps the buffer and closes its descriptor (the front-end keeps its own). */
    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
            mapping = null;
        }
        FileIo.closeQuietly(fd);
        fd = -1;
    }
}
