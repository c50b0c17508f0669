package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * mmap(2), munmap(2) and madvise(2).
 *
 * <p>A mapping comes back as a segment of exactly the mapped length, owned by the given arena: closing
 * the arena unmaps it, and the JVM then refuses every further access through the segment instead of
 * touching unmapped memory.
 */
public final class Mmap {
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_HUGEPAGE = 14;

    private Mmap() {
    }

    /**
     * Maps {@code lengthBytes} of {@code fd} from {@code offsetBytes}.
     *
     * @param arena owns the mapping; closing it unmaps
     * @return a segment of exactly {@code lengthBytes}
     */
    public static MemorySegment map(final int fd, final long offsetBytes, final long lengthBytes, final int protection,
                                    final int flags, final Arena arena) {
        if (lengthBytes <= 0) {
            throw new IllegalArgumentException("mmap length must be positive: " + lengthBytes);
        }
        if (offsetBytes < 0) {
            throw new IllegalArgumentException("mmap offset must not be negative: " + offsetBytes);
        }
        final Libc.Scratch scratch = Libc.scratch();
        final MemorySegment raw = Libc.mmap(scratch.capture, MemorySegment.NULL, lengthBytes, protection, flags, fd,
                offsetBytes);
        if (raw.address() == -1L) {
            throw new SysException("mmap(fd=" + fd + ", offset=" + offsetBytes + ", length=" + lengthBytes + ")",
                    scratch.errno());
        }
        return raw.reinterpret(lengthBytes, arena, unmapped -> Libc.munmap(Libc.scratch().capture, unmapped, lengthBytes));
    }

    /** Maps {@code lengthBytes} of fresh anonymous memory, readable and writable. */
    public static MemorySegment mapAnonymous(final long lengthBytes, final boolean shared, final Arena arena) {
        return map(-1, 0, lengthBytes, PROT_READ | PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, arena);
    }

    /** Gives the kernel {@code advice} about the whole of {@code segment}. */
    public static void advise(final MemorySegment segment, final int advice) {
        final Libc.Scratch scratch = Libc.scratch();
        if (Libc.madvise(scratch.capture, segment, segment.byteSize(), advice) < 0) {
            throw new SysException("madvise(" + segment.byteSize() + " bytes, " + advice + ")", scratch.errno());
        }
    }
}
