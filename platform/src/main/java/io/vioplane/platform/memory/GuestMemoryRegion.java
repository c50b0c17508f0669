package io.vioplane.platform.memory;

import java.lang.foreign.MemorySegment;

/**
 * One contiguous piece of guest-physical memory: where it sits in the guest ({@code gpa}), how large it is,
 * the host mapping through which vioplane touches it, and the file that backs it so that another process
 * (QEMU, DPDK, KVM) can map the same memory.
 *
 * @param gpa         guest-physical address of the first byte
 * @param sizeBytes   length in bytes
 * @param segment     host mapping of exactly {@code sizeBytes}
 * @param fd          backing file descriptor, or -1 if the memory has no file (it cannot then be shared)
 * @param fdOffsetBytes offset of the region's first byte in the backing file
 */
public record GuestMemoryRegion(long gpa, long sizeBytes, MemorySegment segment, int fd, long fdOffsetBytes) {
    /** Checks that the region is well formed. */
    public GuestMemoryRegion {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("region size must be positive: " + sizeBytes);
        }
        if (gpa < 0 || gpa + sizeBytes < 0) {
            throw new IllegalArgumentException("region [0x" + Long.toHexString(gpa) + ", +" + sizeBytes
                    + ") does not fit below 2^63");
        }
        if (segment.byteSize() != sizeBytes) {
            throw new IllegalArgumentException("region mapping is " + segment.byteSize() + " bytes, not " + sizeBytes);
        }
    }

    /** @return the guest-physical address one past the last byte */
    public long endGpa() {
        return gpa + sizeBytes;
    }

    /** @return true if {@code [address, address + length)} lies wholly in this region (length >= 0, no wrap) */
    public boolean contains(final long address, final long lengthBytes) {
        return address >= gpa && lengthBytes <= sizeBytes && address - gpa <= sizeBytes - lengthBytes;
    }

    @Override
    public String toString() {
        return "GuestMemoryRegion[gpa=0x" + Long.toHexString(gpa) + ", size=" + sizeBytes + ", fd=" + fd
                + ", fdOffset=" + fdOffsetBytes + "]";
    }
}
