package io.vioplane.cli.conventions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * Checks, before a daemon starts anything, that it can listen on a Unix socket path (unix(7)): the directory
 * exists, nothing but a socket is in the way, and no process listens there already. A live listener is found in
 * {@code /proc/net/unix} (flag {@code __SO_ACCEPTCON}) rather than by connecting, so the other daemon does not see
 * (and log) a probe as a front-end. A stale socket (nobody listening) passes; the server replaces it.
 */
public final class SocketPaths {
    private static final Path PROC_NET_UNIX = Path.of("/proc/net/unix");
    private static final int SO_ACCEPTCON = 0x10000;

    private SocketPaths() {
    }

    /**
     * @param path a socket path a daemon is about to bind
     * @throws UserError naming the path when it cannot serve
     */
    public static void checkListenable(final Path path) {
        final Path absolute = path.toAbsolutePath().normalize();
        final Path directory = absolute.getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw UserError.failure(path.toString(), "directory " + directory + " does not exist");
        }
        if (!Files.isWritable(directory)) {
            throw UserError.failure(path.toString(), "directory " + directory + " is not writable");
        }
        final BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(absolute, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException absent) {
            return;
        }
        if (!attributes.isOther()) {
            throw UserError.failure(path.toString(), "exists and is not a socket; refusing to replace it");
        }
        if (listening(path.toString(), absolute.toString(), readProcNetUnix())) {
            throw UserError.failure(path.toString(), "another process is listening on it");
        }
    }

    /** @return true if a listening socket bound to {@code given} or {@code absolute} appears in {@code table} */
    static boolean listening(final String given, final String absolute, final List<String> table) {
        for (String line : table) {
            final String[] fields = line.trim().split("\\s+", 8);
            if (fields.length < 8 || !fields[0].endsWith(":")) {
                continue;
            }
            final int flags;
            try {
                flags = Integer.parseInt(fields[3], 16);
            } catch (NumberFormatException e) {
                continue;
            }
            final String bound = fields[7];
            if ((flags & SO_ACCEPTCON) != 0 && (bound.equals(given) || bound.equals(absolute))) {
                return true;
            }
        }
        return false;
    }

    private static List<String> readProcNetUnix() {
        try {
            return Files.readAllLines(PROC_NET_UNIX);
        } catch (IOException e) {
            return List.of();
        }
    }
}
