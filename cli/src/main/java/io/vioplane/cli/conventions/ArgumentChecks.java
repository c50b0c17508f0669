package io.vioplane.cli.conventions;

import io.vioplane.platform.sys.CpuAffinity;
import io.vioplane.platform.sys.SysException;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Checks of daemon arguments that need the machine (CPUs, interface names, directories), done with the other
 * arguments before anything starts, each failing as a {@link UserError} naming the flag; and
 * {@link #starting(Supplier)}, which turns the operating system's refusals during start-up into one-line failures.
 */
public final class ArgumentChecks {
    /** IFNAMSIZ (linux/if.h) less the terminating NUL. */
    public static final int MAX_INTERFACE_NAME_LENGTH = 15;

    private ArgumentChecks() {
    }

    /** @throws UserError unless {@code cpu} is -1 (not pinned) or a CPU this process may run on */
    public static void checkCpu(final String flag, final int cpu) {
        if (cpu == -1) {
            return;
        }
        final int[] allowed = CpuAffinity.allowedCpus();
        if (Arrays.stream(allowed).noneMatch(c -> c == cpu)) {
            throw UserError.usage(flag, "CPU " + cpu + " is not one this process may run on (allowed: "
                    + Arrays.stream(allowed).mapToObj(Integer::toString).collect(Collectors.joining(",")) + ")");
        }
    }

    /** @throws UserError unless {@code name} is a Linux interface name: 1..15 characters, no '/', ':' or blanks */
    public static void checkInterfaceName(final String flag, final String name) {
        if (name == null) {
            return;
        }
        if (name.isEmpty() || name.length() > MAX_INTERFACE_NAME_LENGTH) {
            throw UserError.usage(flag, "interface name '" + name + "' must be 1.." + MAX_INTERFACE_NAME_LENGTH
                    + " characters (it has " + name.length() + ")");
        }
        if (name.equals(".") || name.equals("..") || name.chars().anyMatch(c -> c == '/' || c == ':' || c <= ' ')) {
            throw UserError.usage(flag, "interface name '" + name + "' may not contain '/', ':' or blanks");
        }
    }

    /** @throws UserError unless {@code path}'s parent directory exists (the path itself may be created) */
    public static void checkParentDirectory(final String flag, final Path path) {
        if (path == null) {
            return;
        }
        final Path directory = path.toAbsolutePath().normalize().getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw UserError.failure(path.toString(), "directory " + directory + " does not exist (" + flag + ")");
        }
    }

    /**
     * Runs a daemon's start-up, turning the system's refusals (a failed system call, an I/O error, a resource in the
     * wrong state) into a one-line failure; any other exception stays a bug with its stack trace.
     */
    public static <T> T starting(final Supplier<T> start) {
        try {
            return start.get();
        } catch (SysException | UncheckedIOException | IllegalStateException e) {
            throw UserError.failure(null, "cannot start: " + e.getMessage(), e);
        }
    }
}
