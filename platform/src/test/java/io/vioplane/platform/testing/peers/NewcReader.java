package io.vioplane.platform.testing.peers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/** Reads a gzip-compressed newc cpio archive back into its entries, for tests of what an image holds. */
final class NewcReader {
    private static final int HEADER_BYTES = 110;
    private static final int TYPE_MASK = 0170000;

    /** One entry: its mode (type and permissions), its data (a symbolic link's data is its target) and rdev. */
    record Entry(int mode, byte[] data, int deviceMajor, int deviceMinor) {
        /** @return true for a regular file */
        boolean isRegularFile() {
            return (mode & TYPE_MASK) == 0100000;
        }

        /** @return true for a symbolic link */
        boolean isSymlink() {
            return (mode & TYPE_MASK) == 0120000;
        }

        /** @return true for a character device */
        boolean isCharDevice() {
            return (mode & TYPE_MASK) == 0020000;
        }

        /** @return the data as UTF-8 text */
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    private NewcReader() {
    }

    /** @return the archive's entries by name, in archive order, trailer excluded */
    static Map<String, Entry> read(final Path gzippedArchive) throws IOException {
        final byte[] archive;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gzippedArchive))) {
            archive = in.readAllBytes();
        }
        final Map<String, Entry> entries = new LinkedHashMap<>();
        int offset = 0;
        while (true) {
            final String magic = new String(archive, offset, 6, StandardCharsets.US_ASCII);
            if (!magic.equals("070701")) {
                throw new IOException("bad newc magic at offset " + offset + ": " + magic);
            }
            final int mode = field(archive, offset, 1);
            final int sizeBytes = field(archive, offset, 6);
            final int rdevMajor = field(archive, offset, 9);
            final int rdevMinor = field(archive, offset, 10);
            final int nameBytes = field(archive, offset, 11);
            final String name = new String(archive, offset + HEADER_BYTES, nameBytes - 1, StandardCharsets.UTF_8);
            final int dataOffset = alignToFour(offset + HEADER_BYTES + nameBytes);
            if (name.equals("TRAILER!!!")) {
                return entries;
            }
            final byte[] data = Arrays.copyOfRange(archive, dataOffset, dataOffset + sizeBytes);
            entries.put(name, new Entry(mode, data, rdevMajor, rdevMinor));
            offset = alignToFour(dataOffset + sizeBytes);
        }
    }

    private static int field(final byte[] archive, final int entryOffset, final int index) {
        final int fieldOffset = entryOffset + 6 + index * 8;
        return Integer.parseUnsignedInt(new String(archive, fieldOffset, 8, StandardCharsets.US_ASCII), 16);
    }

    private static int alignToFour(final int offset) {
        return (offset + 3) & ~3;
    }
}
