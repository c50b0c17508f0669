package io.vioplane.pciremote;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The mpqemu wire format (QEMU's include/hw/remote/mpqemu-link.h, measured against QEMU 7.2), host byte order
 * (little-endian on x86-64), one message per sendmsg with its descriptors (SCM_RIGHTS) on the first byte:
 *
 * <pre>
 *   header (16 bytes)              data (size bytes, at most 192)
 *    0 int32  cmd                   SYNC_SYSMEM (0)   u64 gpas[8] @0, u64 sizes[8] @64, u64 offsets[8] @128;
 *    4        padding                                 one fd per region (1..8), 192 bytes
 *    8 uint64 size                  RET (1)           u64 value @0, 8 bytes (only the remote sends it)
 *                                   PCI_CFGWRITE (2)  u32 addr @0, u32 val @4, i32 len @8: 12 bytes
 *                                   PCI_CFGREAD (3)   as CFGWRITE, val unused
 *                                   BAR_WRITE (4)     u64 addr @0 (absolute: gpa or port), u64 val @8,
 *                                   BAR_READ (5)      u32 size @16, bool memory @20: 24 bytes
 *                                   SET_IRQFD (6)     no data; two fds: irqfd, resamplefd
 *                                   DEVICE_RESET (7)  no data
 * </pre>
 *
 * Commands 2-5 and 7 wait for a RET; SYNC_SYSMEM and SET_IRQFD do not. The rule per command ({@link #refusal}) is
 * QEMU's own {@code mpqemu_msg_valid}, plus "no descriptors where none belong".
 */
public final class MpqemuMessage {
    public static final int HEADER_BYTES = 16;
    public static final int MAX_DATA_BYTES = 192;
    public static final int MAX_FDS = 8;

    public static final int SYNC_SYSMEM = 0;
    public static final int RET = 1;
    public static final int PCI_CFGWRITE = 2;
    public static final int PCI_CFGREAD = 3;
    public static final int BAR_WRITE = 4;
    public static final int BAR_READ = 5;
    public static final int SET_IRQFD = 6;
    public static final int DEVICE_RESET = 7;

    static final int CMD = 0;
    static final int SIZE = 8;

    static final int SYNC_SYSMEM_BYTES = 192;
    static final int SYSMEM_GPAS = 0;
    static final int SYSMEM_SIZES = 64;
    static final int SYSMEM_OFFSETS = 128;
    static final int CONFIG_BYTES = 12;
    static final int CONFIG_ADDR = 0;
    static final int CONFIG_VAL = 4;
    static final int CONFIG_LEN = 8;
    static final int BAR_BYTES = 24;
    static final int BAR_ADDR = 0;
    static final int BAR_VAL = 8;
    static final int BAR_SIZE = 16;
    static final int BAR_MEMORY = 20;
    static final int RET_BYTES = 8;

    private MpqemuMessage() {
    }

    /**
     * @param cmd       the header's command
     * @param dataBytes the header's size
     * @param fdCount   descriptors that came with the message
     * @return null if the message is well-formed, else what is wrong with it
     */
    public static String refusal(final int cmd, final long dataBytes, final int fdCount) {
        return switch (cmd) {
            case SYNC_SYSMEM -> dataBytes != SYNC_SYSMEM_BYTES || fdCount < 1 || fdCount > MAX_FDS
                    ? "SYNC_SYSMEM needs 192 bytes and 1-8 descriptors" : null;
            case PCI_CFGWRITE, PCI_CFGREAD -> dataBytes != CONFIG_BYTES || fdCount != 0
                    ? "config access needs 12 bytes and no descriptors" : null;
            case BAR_WRITE, BAR_READ -> dataBytes != BAR_BYTES || fdCount != 0
                    ? "BAR access needs 24 bytes and no descriptors" : null;
            case SET_IRQFD -> dataBytes != 0 || fdCount != 2 ? "SET_IRQFD needs no data and 2 descriptors" : null;
            case DEVICE_RESET -> dataBytes != 0 || fdCount != 0 ? "DEVICE_RESET needs no data and no descriptors"
                    : null;
            case RET -> "RET is the remote's reply; QEMU may not send it";
            default -> "unknown command " + cmd;
        };
    }

    /** @return the header's command */
    static int cmd(final MemorySegment message) {
        return message.get(JAVA_INT_UNALIGNED, CMD);
    }

    /** @return the header's data size (unsigned; a huge value reads as negative) */
    static long size(final MemorySegment message) {
        return message.get(JAVA_LONG_UNALIGNED, SIZE);
    }

    /** Writes a RET message carrying {@code value} into {@code message}. */
    static void ret(final MemorySegment message, final long value) {
        message.set(JAVA_INT_UNALIGNED, CMD, RET);
        message.set(JAVA_INT_UNALIGNED, CMD + 4, 0);
        message.set(JAVA_LONG_UNALIGNED, SIZE, RET_BYTES);
        message.set(JAVA_LONG_UNALIGNED, HEADER_BYTES, value);
    }
}
