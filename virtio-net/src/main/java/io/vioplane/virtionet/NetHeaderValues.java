package io.vioplane.virtionet;

import io.vioplane.platform.memory.LittleEndian;

import java.lang.foreign.MemorySegment;

/**
 * The fields of one {@link VirtioNetHeader}, copied out of guest memory once (a hostile guest may change the
 * header while the device works) and checked. A mutable holder reused from frame to frame.
 */
public final class NetHeaderValues {
    private int flags;
    private int gsoType;
    private int headerLength;
    private int gsoSize;
    private int checksumStart;
    private int checksumOffset;

    /** Sets every field to "no offload". */
    public NetHeaderValues clear() {
        flags = 0;
        gsoType = VirtioNetHeader.GSO_NONE;
        headerLength = 0;
        gsoSize = 0;
        checksumStart = 0;
        checksumOffset = 0;
        return this;
    }

    /** Reads the header fields from {@code source} at {@code offset} (num_buffers is ignored). */
    public NetHeaderValues readFrom(final MemorySegment source, final long offset) {
        flags = source.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + VirtioNetHeader.FLAGS) & 0xFF;
        gsoType = source.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + VirtioNetHeader.GSO_TYPE) & 0xFF;
        headerLength = source.get(LittleEndian.U16, offset + VirtioNetHeader.HDR_LEN) & 0xFFFF;
        gsoSize = source.get(LittleEndian.U16, offset + VirtioNetHeader.GSO_SIZE) & 0xFFFF;
        checksumStart = source.get(LittleEndian.U16, offset + VirtioNetHeader.CSUM_START) & 0xFFFF;
        checksumOffset = source.get(LittleEndian.U16, offset + VirtioNetHeader.CSUM_OFFSET) & 0xFFFF;
        return this;
    }

    /** Writes the header with {@code numBuffers} to {@code destination} at {@code offset}. */
    public void writeTo(final MemorySegment destination, final long offset, final int numBuffers) {
        destination.set(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + VirtioNetHeader.FLAGS, (byte) flags);
        destination.set(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + VirtioNetHeader.GSO_TYPE, (byte) gsoType);
        destination.set(LittleEndian.U16, offset + VirtioNetHeader.HDR_LEN, (short) headerLength);
        destination.set(LittleEndian.U16, offset + VirtioNetHeader.GSO_SIZE, (short) gsoSize);
        destination.set(LittleEndian.U16, offset + VirtioNetHeader.CSUM_START, (short) checksumStart);
        destination.set(LittleEndian.U16, offset + VirtioNetHeader.CSUM_OFFSET, (short) checksumOffset);
        destination.set(LittleEndian.U16, offset + VirtioNetHeader.NUM_BUFFERS, (short) numBuffers);
    }

    /** Copies every field of {@code other}. */
    public NetHeaderValues copyFrom(final NetHeaderValues other) {
        flags = other.flags;
        gsoType = other.gsoType;
        headerLength = other.headerLength;
        gsoSize = other.gsoSize;
        checksumStart = other.checksumStart;
        checksumOffset = other.checksumOffset;
        return this;
    }

    /** @return the flags byte */
    public int flags() {
        return flags;
    }

    /** @return true if the checksum from csum_start still has to be computed */
    public boolean needsChecksum() {
        return (flags & VirtioNetHeader.F_NEEDS_CSUM) != 0;
    }

    /** @return the GSO type without the ECN bit */
    public int gsoKind() {
        return gsoType & ~VirtioNetHeader.GSO_ECN;
    }

    /** @return the raw gso_type byte */
    public int gsoType() {
        return gsoType;
    }

    /** @return true for a GSO (segmentation offload) frame */
    public boolean isGso() {
        return gsoKind() != VirtioNetHeader.GSO_NONE;
    }

    /** @return hdr_len */
    public int headerLength() {
        return headerLength;
    }

    /** @return gso_size (the MSS) */
    public int gsoSize() {
        return gsoSize;
    }

    /** @return csum_start */
    public int checksumStart() {
        return checksumStart;
    }

    /** @return csum_offset */
    public int checksumOffset() {
        return checksumOffset;
    }

    /** Marks the checksum as to be computed from {@code start}, stored at {@code start + offset}. */
    public NetHeaderValues needsChecksum(final int start, final int offset) {
        flags = (flags | VirtioNetHeader.F_NEEDS_CSUM) & ~VirtioNetHeader.F_DATA_VALID;
        checksumStart = start;
        checksumOffset = offset;
        return this;
    }

    /**
     * Clears the flags only a device may set (DATA_VALID, RSC_INFO; virtio 1.2 section 5.1.6.2.1: the driver MUST NOT
     * set them), so a guest's claim never reaches a host stack or another guest.
     *
     * @return true if any was set
     */
    public boolean clearDeviceOnlyFlags() {
        final int deviceOnly = VirtioNetHeader.F_DATA_VALID | VirtioNetHeader.F_RSC_INFO;
        final boolean wasSet = (flags & deviceOnly) != 0;
        flags &= ~deviceOnly;
        return wasSet;
    }

    /** Marks the frame's checksums as complete and valid (DATA_VALID), nothing left to do. */
    public NetHeaderValues checksumComplete(final boolean dataValid) {
        flags = dataValid ? VirtioNetHeader.F_DATA_VALID : 0;
        checksumStart = 0;
        checksumOffset = 0;
        return this;
    }

    /** Sets the segmentation fields. */
    public NetHeaderValues gso(final int type, final int size, final int length) {
        gsoType = type;
        gsoSize = size;
        headerLength = length;
        return this;
    }

    /** Clears the segmentation fields (the frame was segmented or is small). */
    public NetHeaderValues noGso() {
        gsoType = VirtioNetHeader.GSO_NONE;
        gsoSize = 0;
        return this;
    }

    @Override
    public String toString() {
        return "NetHeader[flags=" + flags + ", gso=" + gsoType + "/" + gsoSize + ", hdr_len=" + headerLength
                + ", csum=" + checksumStart + "+" + checksumOffset + "]";
    }
}
