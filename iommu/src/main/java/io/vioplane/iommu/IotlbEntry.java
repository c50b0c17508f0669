package io.vioplane.iommu;

/**
 * One cached translation (VT-d 3.x section 6.2.2): a page of iova space, 4 KiB, 2 MiB or 1 GiB, mapped to
 * guest-physical memory with the permissions the walk accumulated (the AND of R and W over every level).
 *
 * @param domainId    the domain that owns the translation
 * @param iovaBase    first iova of the page
 * @param pageShift   12, 21 or 30
 * @param gpaBase     first gpa of the page
 * @param permissions {@link #READ} | {@link #WRITE}
 */
public record IotlbEntry(int domainId, long iovaBase, int pageShift, long gpaBase, int permissions) {
    /** Permission bit: the device may read. */
    public static final int READ = 1;
    /** Permission bit: the device may write. */
    public static final int WRITE = 2;

    /** @return the gpa that {@code iova} (inside this page) maps to */
    public long gpaOf(final long iova) {
        return gpaBase + (iova - iovaBase);
    }

    /** @return true if this page contains {@code iova} */
    public boolean contains(final long iova) {
        return (iova >>> pageShift) == (iovaBase >>> pageShift);
    }

    /** @return true if this page overlaps {@code [firstIova, firstIova + 2^sizeShift)} */
    public boolean overlaps(final long firstIova, final int sizeShift) {
        final int shift = Math.max(sizeShift, pageShift);
        return (firstIova >>> shift) == (iovaBase >>> shift);
    }
}
