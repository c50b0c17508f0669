package io.vioplane.vhostuser.backend;

import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.Mmap;
import io.vioplane.vring.DirtyPageLog;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The front-end's dirty log (SET_LOG_BASE with a shared-memory fd; QEMU docs/interop/vhost-user.rst,
 * "Migration"): one bit per 4 KiB guest page, bit {@code page % 8} of byte {@code page / 8}, set atomically
 * because the front-end reads and clears it concurrently.
 *
 * <p>Bits are set 64 at a time on naturally aligned little-endian words (the same bit numbering as bytes),
 * with an atomic OR. The mapping covers whole pages, so the word holding the log's last byte is always
 * mapped; pages beyond the log's size are not recorded and counted.
 */
public final class DirtyLogArea implements DirtyPageLog, AutoCloseable {
    /** The page size the log tracks. */
    public static final long PAGE_BYTES = 0x1000;
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment mapping;
    private final long logOffsetInMapping;
    private final long logBytes;
    private final int fd;
    private long outOfRange;

    /**
     * Maps the log.
     *
     * @param fd          the log file; owned from now on
     * @param sizeBytes   bytes of log
     * @param offsetBytes where in the file the log starts
     */
    public DirtyLogArea(final int fd, final long sizeBytes, final long offsetBytes) {
        this.fd = fd;
        try {
            if (sizeBytes <= 0 || offsetBytes < 0 || offsetBytes + sizeBytes < 0) {
                throw new IllegalArgumentException("dirty log of " + sizeBytes + " bytes at offset " + offsetBytes);
            }
            final long fileBytes = FileIo.sizeOf(fd);
            if (offsetBytes + sizeBytes > fileBytes) {
                throw new IllegalArgumentException("dirty log [" + offsetBytes + ", +" + sizeBytes
                        + ") runs past the end of its file (" + fileBytes + " bytes)");
            }
            final long start = offsetBytes & ~(PAGE_BYTES - 1);
            final long end = (offsetBytes + sizeBytes + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
            this.mapping = Mmap.map(fd, start, end - start, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED, arena);
            this.logOffsetInMapping = offsetBytes - start;
            this.logBytes = sizeBytes;
        } catch (RuntimeException e) {
            arena.close();
            FileIo.closeQuietly(fd);
            throw e;
        }
    }

    @Override
    public void mark(final long gpa, final long lengthBytes) {
        if (lengthBytes <= 0) {
            return;
        }
        final long firstPage = gpa >>> 12;
        final long lastPage = (gpa + lengthBytes - 1) >>> 12;
        for (long page = firstPage; page <= lastPage; page++) {
            final long byteIndex = page >>> 3;
            if (byteIndex >= logBytes) {
                outOfRange++;
                return;
            }
            final long bitInMapping = (logOffsetInMapping << 3) + page;
            final long wordOffset = (bitInMapping >>> 6) << 3;
            WORD.getAndBitwiseOrRelease(mapping, wordOffset, 1L << (bitInMapping & 63));
        }
    }

    /** @return pages that could not be recorded because they lie beyond the log */
    public long outOfRange() {
        return outOfRange;
    }

    /** Unmaps the log and closes its descriptor. */
    @Override
    public void close() {
        arena.close();
        FileIo.closeQuietly(fd);
    }
}
