package io.vioplane.pciremote;

import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaRange;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.memory.MemoryAccessException;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.MemFd;

import java.lang.foreign.MemorySegment;

/**
 * The guest RAM QEMU shares with the remote device: the regions of the latest SYNC_SYSMEM (guest-physical address,
 * size, offset into a memfd; QEMU's hw/remote/proxy-memory-listener.c), mapped shared, as the device's
 * {@link DmaSpace}. QEMU sends a new table whenever its memory map commits (about a hundred times per boot), each
 * with fresh descriptors: the new table is mapped, published, and only then the old mapping unmapped and its
 * descriptors closed.
 *
 * <p>A table is refused whole, and its descriptors closed, when a region is empty, wraps (gpa + size or offset +
 * size past 2^64), overlaps another, or runs past the end of its file (a mapping there would fault on access); the
 * previous table then stays in force. Until the first table arrives every access is refused
 * ({@link MemoryAccessException}, OUT_OF_RANGE) and counted.
 *
 * <p>Each file is sealed against shrinking before it is mapped (F_SEAL_SHRINK; QEMU's memory-backend-memfd seals its
 * files itself by default), so QEMU cannot truncate memory the device reads; {@link #sealed()} says whether every
 * file of the table in force is sealed (a file that refuses seals can still be truncated under the mapping, as with
 * any vhost-user front-end's).
 *
 * <p>One thread: the server's, which also runs the device; so the old mapping is unused once replaced.
 */
public final class RemoteGuestMemory implements DmaSpace, AutoCloseable {
    private final CounterSet<MpqemuCounter> counters;
    private GuestMemory current;
    private boolean sealed;

    /** @param counters where refused tables and accesses before any table are counted */
    public RemoteGuestMemory(final CounterSet<MpqemuCounter> counters) {
        this.counters = counters;
    }

    /**
     * Replaces the memory table. Takes every descriptor in {@code fds[0..count)}: they are closed with the mapping,
     * or at once if the table is refused.
     *
     * @return null if the table is in force, else why it was refused
     */
    public String replace(final long[] gpas, final long[] sizes, final long[] offsets, final int[] fds,
                          final int count) {
        final String refusal = check(gpas, sizes, offsets, count);
        if (refusal != null) {
            closeAll(fds, count, 0);
            counters.increment(MpqemuCounter.BAD_MEMORY_TABLE);
            return refusal;
        }
        final GuestMemory.Builder builder = GuestMemory.builder();
        int added = 0;
        boolean allSealed = true;
        try {
            for (; added < count; added++) {
                allSealed &= MemFd.sealAgainstShrinking(fds[added]);
                builder.addFromFd(gpas[added], sizes[added], fds[added], offsets[added], true);
            }
            final GuestMemory next = builder.build();
            final GuestMemory previous = current;
            current = next;
            sealed = allSealed;
            if (previous != null) {
                previous.close();
            }
            return null;
        } catch (RuntimeException e) {
            closeAll(fds, count, added + 1);
            counters.increment(MpqemuCounter.BAD_MEMORY_TABLE);
            return "memory table refused: " + e.getMessage();
        }
    }

    private static String check(final long[] gpas, final long[] sizes, final long[] offsets, final int count) {
        for (int i = 0; i < count; i++) {
            final boolean empty = sizes[i] <= 0;
            final boolean wraps = !empty && (Long.compareUnsigned(gpas[i] + sizes[i], gpas[i]) <= 0
                    || offsets[i] < 0 || offsets[i] + sizes[i] < 0);
            if (empty || wraps) {
                return "region " + i + " (gpa 0x" + Long.toHexString(gpas[i]) + ", 0x" + Long.toHexString(sizes[i])
                        + " bytes at offset 0x" + Long.toHexString(offsets[i]) + ") is empty or wraps";
            }
        }
        return null;
    }

    private static void closeAll(final int[] fds, final int count, final int from) {
        for (int i = from; i < count; i++) {
            FileIo.closeQuietly(fds[i]);
        }
    }

    /** @return true if every file of the table in force is sealed against shrinking */
    public boolean sealed() {
        return sealed;
    }

    /** @return the memory in force, or null before the first table */
    public GuestMemory current() {
        return current;
    }

    private DmaSpace space(final long address, final long lengthBytes) {
        final GuestMemory memory = current;
        if (memory == null) {
            counters.increment(MpqemuCounter.DMA_WITHOUT_MEMORY);
            throw new MemoryAccessException(MemoryAccessException.Reason.OUT_OF_RANGE, address, lengthBytes,
                    "(QEMU has not shared guest memory yet)");
        }
        return memory;
    }

    @Override
    public MemorySegment translate(final long address, final long lengthBytes, final AccessMode mode) {
        return space(address, lengthBytes).translate(address, lengthBytes, mode);
    }

    @Override
    public boolean resolve(final long address, final long lengthBytes, final AccessMode mode, final DmaRange out) {
        final GuestMemory memory = current;
        if (memory == null) {
            counters.increment(MpqemuCounter.DMA_WITHOUT_MEMORY);
            return false;
        }
        return memory.resolve(address, lengthBytes, mode, out);
    }

    @Override
    public void read(final long address, final MemorySegment destination) {
        space(address, destination.byteSize()).read(address, destination);
    }

    @Override
    public void write(final long address, final MemorySegment source) {
        space(address, source.byteSize()).write(address, source);
    }

    /** Unmaps the memory and closes its descriptors. */
    @Override
    public void close() {
        final GuestMemory memory = current;
        current = null;
        if (memory != null) {
            memory.close();
        }
    }
}
