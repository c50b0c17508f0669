package io.vioplane.platform.testing.peers;

import io.vioplane.platform.testing.Commands;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The shared libraries and dynamic loader a host program needs, as {@code ldd} names them. */
final class SharedLibraries {
    private static final Pattern RESOLVED = Pattern.compile("=>\\s*(/\\S+)");
    private static final Pattern LOADER = Pattern.compile("^\\s*(/\\S+)\\s+\\(0x");

    private SharedLibraries() {
    }

    /**
     * @return the paths ldd prints for {@code program} (as ldd names them, which may be symbolic links), the
     *         dynamic loader included; empty for a statically linked program
     */
    static List<Path> of(final Path program) {
        final Commands.Result result = Commands.tryRun(HostPrograms.require("ldd", "libc-bin").toString(),
                program.toString());
        if (result.output().contains("not a dynamic executable") || result.output().contains("statically linked")) {
            return List.of();
        }
        if (result.exitCode() != 0) {
            throw new IllegalStateException("ldd " + program + " exited " + result.exitCode() + ": "
                    + result.output());
        }
        final List<Path> libraries = new ArrayList<>();
        for (final String line : result.output().split("\n")) {
            if (line.contains("not found")) {
                throw new IllegalStateException("ldd " + program + ": a library is missing: " + line.strip());
            }
            final Matcher resolved = RESOLVED.matcher(line);
            final Matcher loader = LOADER.matcher(line);
            if (resolved.find()) {
                libraries.add(Path.of(resolved.group(1)));
            } else if (loader.find()) {
                libraries.add(Path.of(loader.group(1)));
            }
        }
        return List.copyOf(libraries);
    }
}
