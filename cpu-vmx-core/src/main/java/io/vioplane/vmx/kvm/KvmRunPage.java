package io.vioplane.vmx.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Flyweight over the vCPU's shared {@code struct kvm_run} page ({@code include/uapi/linux/kvm.h}):
 *
 * <pre>
 *   0  u8  request_interrupt_window     32  union, by exit_reason:
 *   1  u8  immediate_exit                    IO:   u8 direction, u8 size, u16 port, u32 count, u64 data_offset
 *   8  u32 exit_reason                       MMIO: u64 phys_addr, u8 data[8], u32 len, u8 is_write
 *  12  u8  ready_for_interrupt_injection     FAIL_ENTRY: u64 hardware_entry_failure_reason, u32 cpu
 *  13  u8  if_flag                           INTERNAL_ERROR: u32 suberror, u32 ndata, u64 data[16]
 *  16  u64 cr8, 24 u64 apic_base             UNKNOWN: u64 hardware_exit_reason
 * </pre>
 *
 * KVM writes the exit fields; the VMM reads each once, and writes only immediate_exit, the data of an IN or an
 * MMIO read, before the next KVM_RUN. The I/O data offset comes from the kernel but is still checked to lie in
 * the page.
 */
public final class KvmRunPage {
    public static final int EXIT_UNKNOWN = 0;
    public static final int EXIT_EXCEPTION = 1;
    public static final int EXIT_IO = 2;
    public static final int EXIT_HYPERCALL = 3;
    public static final int EXIT_DEBUG = 4;
    public static final int EXIT_HLT = 5;
    public static final int EXIT_MMIO = 6;
    public static final int EXIT_IRQ_WINDOW_OPEN = 7;
    public static final int EXIT_SHUTDOWN = 8;
    public static final int EXIT_FAIL_ENTRY = 9;
    public static final int EXIT_INTR = 10;
    public static final int EXIT_INTERNAL_ERROR = 17;
    public static final int EXIT_SYSTEM_EVENT = 24;

    public static final int IO_DIRECTION_OUT = 1;

    private static final long IMMEDIATE_EXIT = 1;
    private static final long EXIT_REASON = 8;
    private static final long UNION = 32;
    private static final long IO_DIRECTION = UNION;
    private static final long IO_SIZE = UNION + 1;
    private static final long IO_PORT = UNION + 2;
    private static final long IO_COUNT = UNION + 4;
    private static final long IO_DATA_OFFSET = UNION + 8;
    private static final long MMIO_PHYS_ADDR = UNION;
    private static final long MMIO_DATA = UNION + 8;
    private static final long MMIO_LEN = UNION + 16;
    private static final long MMIO_IS_WRITE = UNION + 20;
    /** Bytes up to the end of the exit union: the least a page must have. */
    public static final long MINIMUM_BYTES = 256 + UNION;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final MemorySegment page;

    /** @param page the mapped kvm_run area, KVM_GET_VCPU_MMAP_SIZE bytes */
    public KvmRunPage(final MemorySegment page) {
        if (page.byteSize() < MINIMUM_BYTES) {
            throw new IllegalArgumentException("kvm_run area too small: " + page.byteSize() + " bytes");
        }
        this.page = page;
    }

    /** @return the exit reason KVM wrote (KVM_EXIT_*) */
    public int exitReason() {
        return page.get(U32, EXIT_REASON);
    }

    /** Sets or clears immediate_exit: KVM_RUN then returns EINTR at once instead of entering the guest. */
    public void immediateExit(final boolean exit) {
        page.set(ValueLayout.JAVA_BYTE, IMMEDIATE_EXIT, (byte) (exit ? 1 : 0));
    }

    /** @return the immediate_exit byte */
    public boolean immediateExit() {
        return page.get(ValueLayout.JAVA_BYTE, IMMEDIATE_EXIT) != 0;
    }

    public boolean ioOut() {
        return page.get(ValueLayout.JAVA_BYTE, IO_DIRECTION) == IO_DIRECTION_OUT;
    }

    public int ioSizeBytes() {
        return page.get(ValueLayout.JAVA_BYTE, IO_SIZE) & 0xFF;
    }

    public int ioPort() {
        return page.get(U16, IO_PORT) & 0xFFFF;
    }

    public int ioCount() {
        return page.get(U32, IO_COUNT);
    }

    /**
     * @return the offset in this page of the I/O data (size times count bytes), checked to lie inside the page;
     *         -1 if it does not
     */
    public long ioDataOffset(final int sizeBytes, final int count) {
        final long offset = page.get(U64, IO_DATA_OFFSET);
        final long lengthBytes = (long) sizeBytes * Integer.toUnsignedLong(count);
        if (offset < MINIMUM_BYTES || lengthBytes > page.byteSize() || offset > page.byteSize() - lengthBytes) {
            return -1;
        }
        return offset;
    }

    /** @return {@code sizeBytes} (1, 2, 4 or 8) little-endian bytes at {@code offset} */
    public long readData(final long offset, final int sizeBytes) {
        return switch (sizeBytes) {
            case 1 -> page.get(ValueLayout.JAVA_BYTE, offset) & 0xFFL;
            case 2 -> page.get(U16, offset) & 0xFFFFL;
            case 4 -> page.get(U32, offset) & 0xFFFF_FFFFL;
            case 8 -> page.get(U64, offset);
            default -> throw new IllegalArgumentException("access size " + sizeBytes);
        };
    }

    /** Writes the low {@code sizeBytes} (1, 2, 4 or 8) bytes of {@code value}, little-endian, at {@code offset}. */
    public void writeData(final long offset, final int sizeBytes, final long value) {
        switch (sizeBytes) {
            case 1 -> page.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
            case 2 -> page.set(U16, offset, (short) value);
            case 4 -> page.set(U32, offset, (int) value);
            case 8 -> page.set(U64, offset, value);
            default -> throw new IllegalArgumentException("access size " + sizeBytes);
        }
    }

    public long mmioGpa() {
        return page.get(U64, MMIO_PHYS_ADDR);
    }

    public int mmioLengthBytes() {
        return page.get(U32, MMIO_LEN);
    }

    public boolean mmioWrite() {
        return page.get(ValueLayout.JAVA_BYTE, MMIO_IS_WRITE) != 0;
    }

    /** @return the offset of the 8-byte MMIO data field */
    public long mmioDataOffset() {
        return MMIO_DATA;
    }

    /** @return the u64 at the start of the exit union (hardware reasons) */
    public long unionLong() {
        return page.get(U64, UNION);
    }

    /** @return the u32 at the start of the exit union (internal-error suberror) */
    public int unionInt() {
        return page.get(U32, UNION);
    }

    /** For tests and the exit decoder's tests: writes a u32 at {@code offset}. */
    void putInt(final long offset, final int value) {
        page.set(U32, offset, value);
    }
}
