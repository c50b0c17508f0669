package io.vioplane.platform.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts another JVM on this test's class path with the project's JVM flags: for tests where two
 * processes must share something (counters files, memory, sockets).
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** @return a process builder for {@code mainClass} with {@code args} in a fresh JVM */
    public static ProcessBuilder builder(final Class<?> mainClass, final String... args) {
        final String java = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        final List<String> command = new ArrayList<>(List.of(java));
        final String root = System.getProperty("vioplane.root");
        if (root != null && Files.isReadable(Path.of(root, "jvm.options"))) {
            command.add("@" + Path.of(root, "jvm.options"));
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    /** Starts {@code mainClass} with stderr inherited. */
    public static Process start(final Class<?> mainClass, final String... args) throws IOException {
        return builder(mainClass, args).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
