package io.vioplane.vmx.kvm;

import io.vioplane.platform.sys.FileIo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * KVM's own per-vCPU statistics, read from the binary stats descriptor ({@code Documentation/virt/kvm/api.rst},
 * 4.133 KVM_GET_STATS_FD), so the VMM's exit counters can be checked against the kernel's ({@code exits},
 * {@code io_exits}, {@code mmio_exits}, {@code irq_injections}, {@code insn_emulation}...).
 *
 * <pre>
 *   header (24 bytes): u32 flags, u32 name_size, u32 num_desc, u32 id_offset, u32 desc_offset, u32 data_offset
 *   descriptor (16 + name_size bytes): u32 flags, s16 exponent, u16 size (values), u32 offset (from data_offset),
 *                                      u32 bucket_size, char name[name_size]
 *   data: u64 values
 * </pre>
 *
 * Every read is positioned (pread): KVM's stats descriptor ignores lseek ({@code noop_llseek}), so a read
 * after a seek would continue wherever the previous read stopped.
 * Every size and offset in the header and descriptors is checked against the bytes actually read before use.
 * Only the first value of each statistic is read (histograms are not).
 */
public final class KvmStats {
    private static final int HEADER_BYTES = 24;
    private static final int DESCRIPTOR_FIXED_BYTES = 16;
    private static final int MAX_NAME_BYTES = 256;
    private static final int MAX_DESCRIPTORS = 4096;
    private static final long MAX_FILE_BYTES = 1 << 20;

    private final Map<String, Long> offsets;
    private final long dataOffset;

    private KvmStats(final Map<String, Long> offsets, final long dataOffset) {
        this.offsets = offsets;
        this.dataOffset = dataOffset;
    }

    /**
     * Reads the header and descriptors from {@code statsFd}.
     *
     * @throws IllegalStateException when the layout is inconsistent
     */
    public static KvmStats open(final int statsFd) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment header = readAt(statsFd, 0, HEADER_BYTES, arena);
            final long nameBytes = u32(header, 4);
            final long count = u32(header, 8);
            final long descriptorOffset = u32(header, 16);
            final long dataOffset = u32(header, 20);
            if (nameBytes == 0 || nameBytes > MAX_NAME_BYTES || count > MAX_DESCRIPTORS) {
                throw new IllegalStateException("KVM stats header: name size " + nameBytes + ", " + count + " stats");
            }
            final long descriptorBytes = DESCRIPTOR_FIXED_BYTES + nameBytes;
            final MemorySegment descriptors = readAt(statsFd, descriptorOffset, count * descriptorBytes, arena);
            return new KvmStats(parse(descriptors, count, descriptorBytes, (int) nameBytes), dataOffset);
        }
    }

    static Map<String, Long> parse(final MemorySegment descriptors, final long count, final long descriptorBytes,
                                   final int nameBytes) {
        final Map<String, Long> offsets = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            final long at = i * descriptorBytes;
            final int size = descriptors.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 6) & 0xFFFF;
            final long offset = u32(descriptors, at + 8);
            if (size == 0 || offset > MAX_FILE_BYTES) {
                continue;
            }
            final byte[] name = descriptors.asSlice(at + DESCRIPTOR_FIXED_BYTES, nameBytes).toArray(ValueLayout.JAVA_BYTE);
            int length = 0;
            while (length < name.length && name[length] != 0) {
                length++;
            }
            offsets.put(new String(name, 0, length, java.nio.charset.StandardCharsets.US_ASCII), offset);
        }
        return offsets;
    }

    /** @return the names of every statistic */
    public java.util.Set<String> names() {
        return offsets.keySet();
    }

    /**
     * @return the current value of statistic {@code name} read from {@code statsFd}, or -1 if KVM has no such
     *         statistic
     */
    public long read(final int statsFd, final String name) {
        final Long offset = offsets.get(name);
        if (offset == null) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            return readAt(statsFd, dataOffset + offset, 8, arena).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        }
    }

    /** @return every statistic's current value */
    public Map<String, Long> readAll(final int statsFd) {
        final Map<String, Long> values = new LinkedHashMap<>();
        for (String name : offsets.keySet()) {
            values.put(name, read(statsFd, name));
        }
        return values;
    }

    private static MemorySegment readAt(final int fd, final long offset, final long lengthBytes, final Arena arena) {
        if (lengthBytes < 0 || lengthBytes > MAX_FILE_BYTES || offset < 0 || offset > MAX_FILE_BYTES) {
            throw new IllegalStateException("KVM stats: " + lengthBytes + " bytes at " + offset + " is out of bounds");
        }
        final MemorySegment buffer = arena.allocate(Math.max(1, lengthBytes), 8);
        long done = 0;
        while (done < lengthBytes) {
            final long n = FileIo.pread(fd, buffer.asSlice(done), lengthBytes - done, offset + done);
            if (n <= 0) {
                throw new IllegalStateException("KVM stats: file ends at " + (offset + done) + ", wanted "
                        + (offset + lengthBytes));
            }
            done += n;
        }
        return buffer.asSlice(0, lengthBytes);
    }

    private static long u32(final MemorySegment segment, final long offset) {
        return segment.get(ValueLayout.JAVA_INT_UNALIGNED, offset) & 0xFFFF_FFFFL;
    }
}
