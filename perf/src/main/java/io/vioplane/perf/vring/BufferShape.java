package io.vioplane.perf.vring;

import java.util.Arrays;

/**
 * The buffers the vring benchmarks' driver places, all device-readable (a transmit queue): the {@code shape}
 * parameter of every vring benchmark. Each in-flight buffer has its own slot of guest memory; the device side
 * resolves every segment against guest memory but never touches payload bytes, so the benchmarks measure the
 * ring and nothing else.
 */
public enum BufferShape {
    /** {@code 1desc}: one 64-byte buffer in one descriptor. */
    ONE_SEGMENT("1desc", new int[] {64}, new long[] {0}),
    /**
     * {@code 2desc}: a 12-byte virtio-net header (virtio_net_hdr_v1) and a 64-byte payload in two chained
     * descriptors, the payload a cache line after the header.
     */
    HEADER_AND_PAYLOAD("2desc", new int[] {12, 64}, new long[] {0, 64});

    private final String paramName;
    private final int[] lengths;
    private final long[] offsetsInSlot;

    BufferShape(final String paramName, final int[] lengths, final long[] offsetsInSlot) {
        this.paramName = paramName;
        this.lengths = lengths;
        this.offsetsInSlot = offsetsInSlot;
    }

    /** @return the shape a JMH {@code shape} parameter names ({@code 1desc} or {@code 2desc}) */
    public static BufferShape ofParam(final String paramName) {
        for (BufferShape shape : values()) {
            if (shape.paramName.equals(paramName)) {
                return shape;
            }
        }
        throw new IllegalArgumentException("unknown buffer shape " + paramName + ": 1desc or 2desc");
    }

    /** @return how many descriptors (segments) one buffer takes */
    public int segments() {
        return lengths.length;
    }

    /** @return a fresh array of the segments' lengths, as {@code DriverQueue.add} takes them */
    public int[] segmentLengths() {
        return lengths.clone();
    }

    /** @return the readable bytes of one buffer */
    public long bufferBytes() {
        return Arrays.stream(lengths).asLongStream().sum();
    }

    /**
     * @param slotGpas the guest address of each buffer slot
     * @return per slot, the guest addresses of the buffer's segments, as {@code DriverQueue.add} takes them
     */
    public long[][] segmentGpas(final long[] slotGpas) {
        final long[][] gpas = new long[slotGpas.length][offsetsInSlot.length];
        for (int slot = 0; slot < slotGpas.length; slot++) {
            for (int segment = 0; segment < offsetsInSlot.length; segment++) {
                gpas[slot][segment] = slotGpas[slot] + offsetsInSlot[segment];
            }
        }
        return gpas;
    }
}
