package io.vioplane.platform.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Counts this process's open file descriptors (/proc/self/fd), for leak tests. */
public final class OpenFds {
    private OpenFds() {
    }

    /** @return how many descriptors this process has open */
    public static int count() {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            return (int) entries.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return true if {@code fd} is open in this process */
    public static boolean isOpen(final int fd) {
        return Files.exists(Path.of("/proc/self/fd/" + fd), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }
}
