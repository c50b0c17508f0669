package io.vioplane.virtioblk;

import io.vioplane.vring.DescriptorChain;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One checked virtio-blk request (VIRTIO 1.x section 5.2.6): a reusable flyweight the {@link BlkRequestValidator}
 * fills from a descriptor chain. Every field was read once from guest memory and checked; the data run and the
 * ranges lie inside the capacity.
 */
public final class BlkRequest {
    int type;
    long sector;
    long dataBytes;
    int rangeCount;
    final long[] rangeSector;
    final int[] rangeSectors;
    final int[] rangeFlags;
    MemorySegment statusBase;
    long statusOffset;

    /** @param maxRanges the most DISCARD / WRITE_ZEROES ranges a request may carry */
    public BlkRequest(final int maxRanges) {
        rangeSector = new long[maxRanges];
        rangeSectors = new int[maxRanges];
        rangeFlags = new int[maxRanges];
    }

    /** @return the request type ({@link BlkRequestType}) */
    public int type() {
        return type;
    }

    /** @return the first sector of IN / OUT */
    public long sector() {
        return sector;
    }

    /** @return the data bytes of IN / OUT (in the writable run for IN, after the header for OUT) */
    public long dataBytes() {
        return dataBytes;
    }

    /** @return the number of DISCARD / WRITE_ZEROES ranges */
    public int rangeCount() {
        return rangeCount;
    }

    /** @return range {@code i}'s first sector */
    public long rangeSector(final int i) {
        return rangeSector[i];
    }

    /** @return range {@code i}'s length in sectors */
    public long rangeSectors(final int i) {
        return Integer.toUnsignedLong(rangeSectors[i]);
    }

    /** @return true if range {@code i} asks for deallocation (WRITE_ZEROES with UNMAP) */
    public boolean rangeUnmap(final int i) {
        return (rangeFlags[i] & BlkRequestType.RANGE_FLAG_UNMAP) != 0;
    }

    /** @return true if the chain has a status byte (false only for {@link BlkRefusal#STATUS_MISSING}) */
    public boolean hasStatus() {
        return statusBase != null;
    }

    /** Writes the status byte: the last device-writable byte of the chain. */
    public void writeStatus(final byte status) {
        statusBase.set(ValueLayout.JAVA_BYTE, statusOffset, status);
    }

    void locateStatus(final DescriptorChain chain) {
        if (chain.writableCount() == 0) {
            statusBase = null;
            return;
        }
        final int last = chain.segmentCount() - 1;
        statusBase = chain.segmentBase(last);
        statusOffset = chain.segmentOffset(last) + chain.segmentLength(last) - 1;
    }
}
