package io.vioplane.virtionet.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The device's receive filter, set through the control queue (VIRTIO 1.x 5.1.6.5.1 and 5.1.6.5.2):
 * promiscuous and all-multicast modes, the unicast and multicast MAC tables, and the device's own address.
 * Starts promiscuous, as QEMU's device does, until the driver says otherwise. Tables longer than
 * {@link #MAX_TABLE_ENTRIES} overflow into accepting that whole class, as QEMU does.
 *
 * <p>Written by the control-queue engine and read by the receive engines, all on the data-plane thread.
 */
public final class RxFilter {
    /** MAC entries kept per table. */
    public static final int MAX_TABLE_ENTRIES = 64;
    private static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;

    private boolean promiscuous = true;
    private boolean allMulticast;
    private long deviceMac;
    private final long[] unicast = new long[MAX_TABLE_ENTRIES];
    private final long[] multicast = new long[MAX_TABLE_ENTRIES];
    private int unicastCount;
    private int multicastCount;
    private boolean unicastOverflow;
    private boolean multicastOverflow;

    /** @return a MAC address of 6 bytes as a 48-bit number, first byte most significant */
    public static long macValue(final byte[] mac) {
        long value = 0;
        for (int i = 0; i < 6; i++) {
            value = value << 8 | (mac[i] & 0xFF);
        }
        return value;
    }

    private static long macAt(final MemorySegment frame, final long offset) {
        final long high = frame.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), offset) & 0xFFFF_FFFFL;
        final long low = frame.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), offset + 4) & 0xFFFF;
        return (high << 16 | low) & MAC_MASK;
    }

    /** Sets the device's own address. */
    public void deviceMac(final byte[] mac) {
        deviceMac = macValue(mac);
    }

    /** Sets promiscuous mode. */
    public void promiscuous(final boolean on) {
        promiscuous = on;
    }

    /** @return true if promiscuous */
    public boolean promiscuous() {
        return promiscuous;
    }

    /** Sets all-multicast mode. */
    public void allMulticast(final boolean on) {
        allMulticast = on;
    }

    /** Replaces the unicast table with {@code count} addresses from {@code macs} (6 bytes each). */
    public void unicastTable(final MemorySegment macs, final int count) {
        unicastOverflow = count > MAX_TABLE_ENTRIES;
        unicastCount = Math.min(count, MAX_TABLE_ENTRIES);
        for (int i = 0; i < unicastCount; i++) {
            unicast[i] = macAt(macs, 6L * i);
        }
    }

    /** Replaces the multicast table with {@code count} addresses from {@code macs} (6 bytes each). */
    public void multicastTable(final MemorySegment macs, final int count) {
        multicastOverflow = count > MAX_TABLE_ENTRIES;
        multicastCount = Math.min(count, MAX_TABLE_ENTRIES);
        for (int i = 0; i < multicastCount; i++) {
            multicast[i] = macAt(macs, 6L * i);
        }
    }

    /** @return true if the frame at {@code offset} (its destination address first) passes the filter */
    public boolean accepts(final MemorySegment frame, final long offset, final int lengthBytes) {
        if (promiscuous || lengthBytes < 6) {
            return true;
        }
        final long destination = macAt(frame, offset);
        if ((destination >>> 40 & 1) != 0) {
            if (destination == MAC_MASK || allMulticast || multicastOverflow) {
                return true;
            }
            for (int i = 0; i < multicastCount; i++) {
                if (multicast[i] == destination) {
                    return true;
                }
            }
            return false;
        }
        if (destination == deviceMac || unicastOverflow) {
            return true;
        }
        for (int i = 0; i < unicastCount; i++) {
            if (unicast[i] == destination) {
                return true;
            }
        }
        return false;
    }
}
