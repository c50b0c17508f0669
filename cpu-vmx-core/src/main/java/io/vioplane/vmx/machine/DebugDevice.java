package io.vioplane.vmx.machine;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.memory.MemoryAccessException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The VMM debug device: the guest runtime's console, result line and exit status, as one page of MMIO registers
 * (a vioplane device; QEMU's isa-debugcon and isa-debug-exit play the same part under QEMU, see
 * {@code src/main/guest/README.md}).
 *
 * <pre>
 *   0x00 CONSOLE_BYTE  w1  one console byte
 *   0x08 BUFFER_GPA    w8  guest-physical address of a text buffer
 *   0x10 CONSOLE_WRITE w4  print that many bytes (at most 4096) from BUFFER_GPA
 *   0x18 RESULT_WRITE  w4  the result line is that many bytes (at most 4096) from BUFFER_GPA
 *   0x20 EXIT          w4  the guest is done, with this status
 *   0x28 MAGIC         r4  0x42445056 ("VPDB"): the guest runs under vioplane
 * </pre>
 *
 * Console bytes other than printable ASCII, newline and tab are shown as '?', so a guest cannot send escape
 * sequences to the operator's terminal. Reads of other registers return all ones; bad lengths and buffers
 * outside guest memory are counted and ignored.
 */
public final class DebugDevice implements BusDevice {
    /** Where the machine places the device. */
    public static final long GPA = 0xD000_0000L;
    public static final long SIZE_BYTES = 0x1000;
    public static final long CONSOLE_BYTE = 0x00;
    public static final long BUFFER_GPA = 0x08;
    public static final long CONSOLE_WRITE = 0x10;
    public static final long RESULT_WRITE = 0x18;
    public static final long EXIT = 0x20;
    public static final long MAGIC = 0x28;
    public static final int MAGIC_VALUE = 0x42445056;
    public static final int MAX_BUFFER_BYTES = 4096;

    private final GuestMemory memory;
    private final GuestConsole console;
    private final ExitCounters counters;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private long bufferGpa;
    private String result;
    private boolean exitRequested;
    private int exitStatus;

    /** @param console where complete console lines go as the guest writes them */
    public DebugDevice(final GuestMemory memory, final GuestConsole console, final ExitCounters counters) {
        this.memory = memory;
        this.console = console;
        this.counters = counters;
    }

    @Override
    public long read(final long offset, final int sizeBytes) {
        return offset == MAGIC && sizeBytes == 4 ? MAGIC_VALUE : -1L;
    }

    @Override
    public void write(final long offset, final int sizeBytes, final long value) {
        if (offset == CONSOLE_BYTE && sizeBytes == 1) {
            consoleByte((byte) value);
        } else if (offset == BUFFER_GPA && sizeBytes == 8) {
            bufferGpa = value;
        } else if (offset == CONSOLE_WRITE && sizeBytes == 4) {
            final byte[] text = buffer(value);
            if (text != null) {
                for (byte b : text) {
                    consoleByte(b);
                }
            }
        } else if (offset == RESULT_WRITE && sizeBytes == 4) {
            final byte[] text = buffer(value);
            if (text != null) {
                result = sanitize(text);
            }
        } else if (offset == EXIT && sizeBytes == 4) {
            exitStatus = (int) value;
            exitRequested = true;
        } else {
            counters.fault(GuestFault.DEBUG_DEVICE_BAD_REGISTER);
        }
    }

    private byte[] buffer(final long lengthValue) {
        final long lengthBytes = lengthValue & 0xFFFF_FFFFL;
        if (lengthBytes > MAX_BUFFER_BYTES) {
            counters.fault(GuestFault.DEBUG_DEVICE_BAD_BUFFER);
            return null;
        }
        try {
            return memory.readBytes(bufferGpa, (int) lengthBytes);
        } catch (MemoryAccessException e) {
            counters.fault(GuestFault.DEBUG_DEVICE_BAD_BUFFER);
            return null;
        }
    }

    private void consoleByte(final byte b) {
        if (b == '\n') {
            emitLine();
        } else {
            line.write(printable(b));
            if (line.size() >= MAX_BUFFER_BYTES) {
                emitLine();
            }
        }
    }

    /** Prints a console line the guest left unterminated. */
    public void flush() {
        if (line.size() > 0) {
            emitLine();
        }
    }

    private void emitLine() {
        console.line(line.toString(StandardCharsets.US_ASCII));
        line.reset();
    }

    private static int printable(final byte b) {
        return b == '\t' || (b >= 0x20 && b < 0x7F) ? b : '?';
    }

    private static String sanitize(final byte[] text) {
        final StringBuilder builder = new StringBuilder(text.length);
        for (byte b : text) {
            if (b == '\n') {
                break;
            }
            builder.append((char) printable(b));
        }
        return builder.toString();
    }

    /** @return the result line the guest reported, or null */
    public String result() {
        return result;
    }

    /** @return whether the guest wrote EXIT */
    public boolean exitRequested() {
        return exitRequested;
    }

    /** @return the status the guest wrote to EXIT */
    public int exitStatus() {
        return exitStatus;
    }
}
