package io.vioplane.platform.testing.peers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * A cpio archive in the "newc" format (the one the Linux kernel unpacks as an initramfs), assembled in
 * memory. Entries are written in path order, so every directory precedes what it holds, and with fixed
 * owners, times and inode numbers, so the same entries always give the same bytes.
 */
final class NewcArchive {
    private static final int TYPE_DIRECTORY = 0040000;
    private static final int TYPE_REGULAR = 0100000;
    private static final int TYPE_SYMLINK = 0120000;
    private static final int TYPE_CHAR_DEVICE = 0020000;
    private static final String TRAILER_NAME = "TRAILER!!!";

    private record Entry(int mode, byte[] data, int deviceMajor, int deviceMinor) {
    }

    private final Map<String, Entry> entries = new TreeMap<>();

    /** Adds a directory (and its parents) at {@code path}, e.g. {@code "usr/bin"}. */
    NewcArchive directory(final String path) {
        final String name = relative(path);
        if (name.isEmpty()) {
            return this;
        }
        addParents(name);
        final Entry existing = entries.get(name);
        if (existing != null && (existing.mode() & TYPE_DIRECTORY) == 0) {
            throw new IllegalArgumentException(name + " is already in the archive as something else");
        }
        entries.put(name, new Entry(TYPE_DIRECTORY | 0755, new byte[0], 0, 0));
        return this;
    }

    /** Adds a regular file with permission bits {@code permissions}, replacing any entry at {@code path}. */
    NewcArchive file(final String path, final int permissions, final byte[] content) {
        return put(path, new Entry(TYPE_REGULAR | (permissions & 07777), content, 0, 0));
    }

    /** Adds a symbolic link at {@code path} pointing to {@code target}, replacing any entry there. */
    NewcArchive symlink(final String path, final String target) {
        return put(path, new Entry(TYPE_SYMLINK | 0777, target.getBytes(StandardCharsets.UTF_8), 0, 0));
    }

    /** Adds a character device node (e.g. /dev/console, 5:1). */
    NewcArchive charDevice(final String path, final int permissions, final int major, final int minor) {
        return put(path, new Entry(TYPE_CHAR_DEVICE | (permissions & 07777), new byte[0], major, minor));
    }

    /** @return true if the archive has an entry at {@code path} */
    boolean contains(final String path) {
        return entries.containsKey(relative(path));
    }

    /** @return the whole archive, trailer included */
    byte[] toBytes() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
        int inode = 1;
        for (final Map.Entry<String, Entry> named : entries.entrySet()) {
            final Entry entry = named.getValue();
            final int links = (entry.mode() & TYPE_DIRECTORY) == TYPE_DIRECTORY ? 2 : 1;
            writeEntry(out, named.getKey(), inode++, entry.mode(), links, entry.data(), entry.deviceMajor(),
                    entry.deviceMinor());
        }
        writeEntry(out, TRAILER_NAME, 0, 0, 1, new byte[0], 0, 0);
        return out.toByteArray();
    }

    private NewcArchive put(final String path, final Entry entry) {
        final String name = relative(path);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("an archive entry needs a name: '" + path + "'");
        }
        addParents(name);
        final Entry existing = entries.get(name);
        if (existing != null && (existing.mode() & TYPE_DIRECTORY) == TYPE_DIRECTORY) {
            throw new IllegalArgumentException(name + " is already a directory in the archive");
        }
        entries.put(name, entry);
        return this;
    }

    private void addParents(final String name) {
        int slash = name.indexOf('/');
        while (slash > 0) {
            entries.putIfAbsent(name.substring(0, slash), new Entry(TYPE_DIRECTORY | 0755, new byte[0], 0, 0));
            slash = name.indexOf('/', slash + 1);
        }
    }

    private static String relative(final String path) {
        String name = path;
        while (name.startsWith("/")) {
            name = name.substring(1);
        }
        while (name.endsWith("/")) {
            name = name.substring(0, name.length() - 1);
        }
        return name;
    }

    private static void writeEntry(final ByteArrayOutputStream out, final String name, final int inode,
            final int mode, final int links, final byte[] data, final int rdevMajor, final int rdevMinor) {
        final byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        final StringBuilder header = new StringBuilder(110).append("070701");
        for (final long field : new long[] {inode, mode, 0, 0, links, 0, data.length, 0, 0, rdevMajor, rdevMinor,
                nameBytes.length, 0}) {
            header.append(String.format("%08X", field));
        }
        out.writeBytes(header.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(nameBytes);
        padToFourBytes(out);
        out.writeBytes(data);
        padToFourBytes(out);
    }

    private static void padToFourBytes(final ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }
}
