package io.vioplane.peers.dpdk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The directory where a DPDK process keeps its runtime files (multi-process socket, config, memory arrays):
 * {@code /var/run/dpdk/PREFIX} when run as root, else {@code $XDG_RUNTIME_DIR/dpdk/PREFIX} or
 * {@code /tmp/dpdk/PREFIX}. {@code --no-huge} runs leave it behind, and it blocks a later run with the same
 * {@code --file-prefix}, so whoever starts DPDK removes it.
 */
public final class DpdkRuntimeDir {
    private DpdkRuntimeDir() {
    }

    /** @return the runtime directory of a DPDK process started by this user with {@code --file-prefix filePrefix} */
    public static Path of(final String filePrefix) {
        if ("root".equals(System.getProperty("user.name"))) {
            return Path.of("/var/run/dpdk", filePrefix);
        }
        final String xdg = System.getenv("XDG_RUNTIME_DIR");
        return Path.of(xdg != null && !xdg.isEmpty() ? xdg : "/tmp", "dpdk", filePrefix);
    }

    /** Deletes {@code directory} and everything in it; nothing happens if it does not exist. */
    public static void delete(final Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(directory)) {
            final List<Path> deepestFirst = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path path : deepestFirst) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete DPDK runtime directory " + directory, e);
        }
    }
}
