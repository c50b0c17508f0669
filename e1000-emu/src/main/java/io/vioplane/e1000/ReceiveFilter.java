package io.vioplane.e1000;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.vioplane.e1000.E1000Registers.*;

/**
 * The receive filters of SDM 3.2.3 / 13.4.22 / 13.5: VLAN filtering (RCTL.VFE: a frame tagged with ethertype VET
 * passes only if its VLAN ID's bit is set in VFTA), then address filtering: broadcast with RCTL.BAM, multicast
 * with RCTL.MPE or its MTA bit (12 bits of the destination selected by RCTL.MO), unicast with RCTL.UPE or an exact
 * match in a receive-address entry whose AV bit is set. Reads the register values the guest last wrote.
 */
final class ReceiveFilter {
    private static final ValueLayout.OfShort U16_BE =
        ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final int[] MO_SHIFTS = {4, 3, 2, 0};
    private final int[] values;

    ReceiveFilter(final int[] values) {
        this.values = values;
    }

    private int reg(final int offset) {
        return values[offset >>> 2];
    }

    /** @return true if the frame (at least 14 bytes at {@code offset}) carries an 802.1Q tag with ethertype VET */
    boolean isVlanTagged(final MemorySegment frame, final long offset) {
        return (frame.get(U16_BE, offset + 12) & 0xFFFF) == (reg(VET) & 0xFFFF);
    }

    /** @return true if the frame passes the VLAN and address filters */
    boolean accepts(final MemorySegment frame, final long offset, final int lengthBytes) {
        final int rctl = reg(RCTL);
        if ((rctl & RCTL_VFE) != 0 && lengthBytes >= 18 && isVlanTagged(frame, offset)) {
            final int vlanId = frame.get(U16_BE, offset + 14) & 0xFFF;
            if ((reg(VFTA + 4 * (vlanId >>> 5)) & (1 << (vlanId & 31))) == 0) {
                return false;
            }
        }
        final int high = frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset) & 0xFFFF;
        final int low = frame.get(ValueLayout.JAVA_INT_UNALIGNED, offset + 2);
        final boolean group = (high & 1) != 0;
        if (group) {
            if (high == 0xFFFF && low == -1) {
                return (rctl & RCTL_BAM) != 0 || (rctl & RCTL_MPE) != 0 || multicastHash(frame, offset, rctl);
            }
            return (rctl & RCTL_MPE) != 0 || multicastHash(frame, offset, rctl);
        }
        return (rctl & RCTL_UPE) != 0 || exactMatch(frame, offset);
    }

    private boolean multicastHash(final MemorySegment frame, final long offset, final int rctl) {
        final int byte4 = frame.get(ValueLayout.JAVA_BYTE, offset + 4) & 0xFF;
        final int byte5 = frame.get(ValueLayout.JAVA_BYTE, offset + 5) & 0xFF;
        final int word = byte4 | (byte5 << 8);
        final int hash = (word >>> MO_SHIFTS[(rctl >>> RCTL_MO_SHIFT) & 3]) & 0xFFF;
        return (reg(MTA + 4 * (hash >>> 5)) & (1 << (hash & 31))) != 0;
    }

    private boolean exactMatch(final MemorySegment frame, final long offset) {
        final int low = frame.get(ValueLayout.JAVA_INT_UNALIGNED, offset);
        final int high = frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 4) & 0xFFFF;
        for (int i = 0; i < RA_ENTRIES; i++) {
            final int rah = reg(RA + 8 * i + 4);
            if ((rah & RAH_AV) != 0 && reg(RA + 8 * i) == low && (rah & 0xFFFF) == high) {
                return true;
            }
        }
        return false;
    }
}
