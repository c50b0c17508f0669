package io.vioplane.platform.runtime;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where running vioplane processes publish their counters files: {@code -Dvioplane.runDir}, else
 * {@code $VIOPLANE_RUN_DIR}, else {@code /dev/shm/vioplane} (memory-backed), else {@code $TMPDIR/vioplane}.
 */
public final class RunDirectory {
    private RunDirectory() {
    }

    /** @return the run directory for this process (not created) */
    public static Path resolve() {
        final String property = System.getProperty("vioplane.runDir");
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        final String environment = System.getenv("VIOPLANE_RUN_DIR");
        if (environment != null && !environment.isBlank()) {
            return Path.of(environment);
        }
        final Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            return shm.resolve("vioplane");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "vioplane");
    }

    /** @return true if a process with id {@code pid} is alive */
    public static boolean isAlive(final long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
