package io.vioplane.vmx.loader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The catalogue of malformed guest images: each a mutation of a good image and the words the loader's error must
 * contain. Program-header offsets follow the ELF64 layout (e_phoff at 32, 56-byte headers).
 */
final class HostileImages {
    record Attack(String name, UnaryOperator<byte[]> mutation, String expectedError) {
        @Override
        public String toString() {
            return name;
        }
    }

    private HostileImages() {
    }

    static List<Attack> all() {
        return List.of(
                new Attack("notElfAtAll", image -> "#!/bin/sh\necho hello\n".getBytes(), "not an ELF file"),
                new Attack("elf32", image -> poke(image, 4, (byte) 1), "not ELF64"),
                new Attack("bigEndian", image -> poke(image, 5, (byte) 2), "not little-endian"),
                new Attack("otherMachine", image -> putShort(image, 18, (short) 183), "not an x86-64 image"),
                new Attack("sharedObject", image -> putShort(image, 16, (short) 3), "not an executable"),
                new Attack("programHeadersPastEnd", image -> putLong(image, 32, image.length - 8L), "outside the file"),
                new Attack("tooManyProgramHeaders", image -> putShort(image, 56, (short) 5000), "program header count"),
                new Attack("segmentBytesPastEnd", image -> putLong(image, loadHeader(image, 0) + 32, 1L << 40),
                        "outside the file"),
                new Attack("overlappingSegments", HostileImages::overlapSecondSegment, "segments overlap"),
                new Attack("virtualDiffersFromPhysical", image -> putLong(image, loadHeader(image, 0) + 16, 0x400000L),
                        "differs from its physical"),
                new Attack("entryOutsideCode", image -> putLong(image, 24, 0x7000_0000L), "entry point"),
                new Attack("truncatedHeader", image -> java.util.Arrays.copyOf(image, 20), "truncated"));
    }

    static byte[] poke(final byte[] image, final int offset, final byte value) {
        final byte[] copy = image.clone();
        copy[offset] = value;
        return copy;
    }

    static byte[] putShort(final byte[] image, final int offset, final short value) {
        final byte[] copy = image.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putShort(offset, value);
        return copy;
    }

    static byte[] putLong(final byte[] image, final int offset, final long value) {
        final byte[] copy = image.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(offset, value);
        return copy;
    }

    /** @return the file offset of the {@code n}th PT_LOAD program header */
    static int loadHeader(final byte[] image, final int n) {
        final ByteBuffer elf = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        final int phoff = (int) elf.getLong(32);
        final int phnum = elf.getShort(56);
        int seen = 0;
        for (int i = 0; i < phnum; i++) {
            final int at = phoff + 56 * i;
            if (elf.getInt(at) == 1 && seen++ == n) {
                return at;
            }
        }
        throw new IllegalArgumentException("image has fewer than " + (n + 1) + " PT_LOAD headers");
    }

    /** Moves the second loadable segment onto the first. */
    static byte[] overlapSecondSegment(final byte[] image) {
        final ByteBuffer elf = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        final long firstGpa = elf.getLong(loadHeader(image, 0) + 24);
        final int second = loadHeader(image, 1);
        return putLong(putLong(image, second + 16, firstGpa + 16), second + 24, firstGpa + 16);
    }
}
