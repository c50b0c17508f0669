package io.vioplane.vmx.cpu;

/**
 * A segment register's hidden part as VT-x keeps it in the guest-state area (Intel SDM Vol. 3, 25.4.1: selector,
 * base, limit, access rights), the form both KVM_SET_SREGS and an interpreter take.
 *
 * @param type      descriptor type bits (e.g. 0xB execute/read accessed code, 0x3 read/write accessed data,
 *                  0xB busy 64-bit TSS when {@code system} is false... see SDM Vol. 3, 3.4.5.1)
 * @param system    the S bit inverted: true for a system descriptor (TSS, LDT)
 * @param dpl       descriptor privilege level 0-3
 * @param longMode  L bit: 64-bit code segment
 * @param big       D/B bit
 * @param granular  G bit: limit in 4 KiB units
 */
public record Segment(int selector, long base, int limit, int type, boolean system, int dpl, boolean present,
                      boolean longMode, boolean big, boolean granular) {

    /** @return a flat 64-bit code segment at privilege {@code dpl} */
    public static Segment code64(final int selector, final int dpl) {
        return new Segment(selector, 0, 0xFFFF_FFFF, 0xB, false, dpl, true, true, false, true);
    }

    /** @return a flat writable data segment at privilege {@code dpl} */
    public static Segment data(final int selector, final int dpl) {
        return new Segment(selector, 0, 0xFFFF_FFFF, 0x3, false, dpl, true, false, true, true);
    }

    /** @return a busy 64-bit TSS at {@code base} */
    public static Segment tss(final int selector, final long base, final int limit) {
        return new Segment(selector, base, limit, 0xB, true, 0, true, false, false, false);
    }

    /** @return an unusable LDT (selector 0, present but empty) */
    public static Segment noLdt() {
        return new Segment(0, 0, 0xFFFF, 0x2, true, 0, true, false, false, false);
    }
}
