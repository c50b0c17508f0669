package io.vioplane.platform.testing.peers;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds host programs by name: on the PATH first, then in the system directories a non-login PATH may lack
 * ({@code /usr/sbin}, {@code /sbin}), where Debian keeps modprobe and ip.
 */
final class HostPrograms {
    private static final List<String> SYSTEM_DIRECTORIES = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
            "/usr/bin", "/sbin", "/bin");

    private HostPrograms() {
    }

    /** @return the executable file called {@code name}, if there is one */
    static Optional<Path> find(final String name) {
        final List<String> directories = new ArrayList<>();
        final String path = System.getenv("PATH");
        if (path != null) {
            directories.addAll(List.of(path.split(File.pathSeparator)));
        }
        directories.addAll(SYSTEM_DIRECTORIES);
        for (final String directory : directories) {
            if (directory.isEmpty()) {
                continue;
            }
            final Path candidate = Path.of(directory, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** @return the executable file called {@code name}; throws naming {@code packageName} when it is missing */
    static Path require(final String name, final String packageName) {
        return find(name).orElseThrow(() -> new IllegalStateException(
                "'" + name + "' not found on PATH or in " + SYSTEM_DIRECTORIES + ": install " + packageName));
    }
}
