package io.vioplane.vmx.exit;

/**
 * Exit-qualification encodings of Intel SDM Vol. 3, 28.2.1 ("Basic VM-Exit Information"): Table 28-3 (control-
 * register accesses), Table 28-5 (I/O instructions) and Table 28-7 (EPT violations).
 */
public final class ExitQualification {
    private static final long IO_DIRECTION_IN = 1L << 3;
    private static final long IO_STRING = 1L << 4;
    private static final long IO_REP = 1L << 5;
    private static final long IO_IMMEDIATE = 1L << 6;

    /** EPT violation: the access was a data read. */
    public static final long EPT_READ = 1L;
    /** EPT violation: the access was a data write. */
    public static final long EPT_WRITE = 1L << 1;
    /** EPT violation: the access was an instruction fetch. */
    public static final long EPT_FETCH = 1L << 2;
    private static final long EPT_PERMISSION_MASK = 0x7L << 3;
    private static final long EPT_LINEAR_VALID = 1L << 7;

    private ExitQualification() {
    }

    /**
     * Table 28-5.
     *
     * @param sizeBytes 1, 2 or 4
     * @param in        IN/INS rather than OUT/OUTS
     */
    public static long io(final int port, final int sizeBytes, final boolean in, final boolean string,
                          final boolean rep, final boolean immediate) {
        if (sizeBytes != 1 && sizeBytes != 2 && sizeBytes != 4) {
            throw new IllegalArgumentException("I/O access size must be 1, 2 or 4 bytes: " + sizeBytes);
        }
        return (sizeBytes - 1L) | (in ? IO_DIRECTION_IN : 0) | (string ? IO_STRING : 0) | (rep ? IO_REP : 0)
                | (immediate ? IO_IMMEDIATE : 0) | ((port & 0xFFFFL) << 16);
    }

    /** @return the port of an I/O qualification */
    public static int ioPort(final long qualification) {
        return (int) ((qualification >>> 16) & 0xFFFF);
    }

    /** @return the access size in bytes of an I/O qualification */
    public static int ioSizeBytes(final long qualification) {
        return (int) (qualification & 0x7) + 1;
    }

    /** @return whether an I/O qualification describes IN or INS */
    public static boolean ioIn(final long qualification) {
        return (qualification & IO_DIRECTION_IN) != 0;
    }

    /** @return whether an I/O qualification describes INS or OUTS */
    public static boolean ioString(final long qualification) {
        return (qualification & IO_STRING) != 0;
    }

    /**
     * Table 28-7, for an access to a guest-physical address that has no EPT entry at all (permissions 0).
     *
     * @param linearAddressValid whether the guest-linear-address field is valid (bit 7)
     */
    public static long eptViolation(final boolean write, final boolean fetch, final boolean linearAddressValid) {
        final long kind = fetch ? EPT_FETCH : write ? EPT_WRITE : EPT_READ;
        return kind | (linearAddressValid ? EPT_LINEAR_VALID : 0);
    }

    /** @return whether an EPT-violation qualification describes a write */
    public static boolean eptWrite(final long qualification) {
        return (qualification & EPT_WRITE) != 0;
    }

    /** @return the permissions (bits 5:3: readable, writable, executable) the EPT entry granted */
    public static int eptPermissions(final long qualification) {
        return (int) ((qualification & EPT_PERMISSION_MASK) >>> 3);
    }

    /** The access types of Table 28-3, bits 5:4. */
    public static final int CR_MOV_TO = 0;
    public static final int CR_MOV_FROM = 1;
    public static final int CR_CLTS = 2;
    public static final int CR_LMSW = 3;

    /**
     * Table 28-3 for MOV to/from CR.
     *
     * @param register the general-purpose register number (0 RAX .. 15 R15)
     */
    public static long crAccess(final int crNumber, final int accessType, final int register) {
        return (crNumber & 0xFL) | ((accessType & 0x3L) << 4) | ((register & 0xFL) << 8);
    }

    /** @return the control register number of a CR-access qualification */
    public static int crNumber(final long qualification) {
        return (int) (qualification & 0xF);
    }

    /** @return the access type (bits 5:4) of a CR-access qualification */
    public static int crAccessType(final long qualification) {
        return (int) ((qualification >>> 4) & 0x3);
    }

    /** @return the general-purpose register (bits 11:8) of a CR-access qualification */
    public static int crRegister(final long qualification) {
        return (int) ((qualification >>> 8) & 0xF);
    }
}
