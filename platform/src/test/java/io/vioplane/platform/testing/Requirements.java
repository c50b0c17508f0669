package io.vioplane.platform.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What an integration test needs from the machine (root, /dev/net/tun, /dev/kvm, a peer program), checked
 * up front. Missing: the test is skipped with a loud line on standard error, or fails when
 * {@code VIOPLANE_REQUIRE_PEERS=1} (set by {@code .ci/run}, where everything is installed and nothing may
 * be skipped).
 */
public final class Requirements {
    private Requirements() {
    }

    /** @return true when missing requirements must fail the test instead of skipping it */
    public static boolean strict() {
        return "1".equals(System.getenv("VIOPLANE_REQUIRE_PEERS"));
    }

    /** Skips (or, strictly, fails) the calling test unless {@code met}; {@code what} says what is missing. */
    public static void require(final boolean met, final String what) {
        if (met) {
            return;
        }
        final String message = "NEEDS " + what;
        if (strict()) {
            Assertions.fail(message + " (VIOPLANE_REQUIRE_PEERS=1: nothing may be skipped)");
        }
        System.err.println("\n*** SKIPPED: " + message + " ***\n");
        Assumptions.abort(message);
    }

    /** @return true if this process runs as root */
    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Requires root. */
    public static void requireRoot() {
        require(isRoot(), "root (network namespaces, TAP devices)");
    }

    /** Requires a usable /dev/net/tun and root, and the ip command. */
    public static void requireTapAndNetns() {
        requireRoot();
        require(Files.isReadable(Path.of("/dev/net/tun")), "/dev/net/tun");
        requireCommand("ip", "iproute2 (the ip command)");
    }

    /**
     * Requires /dev/kvm. Unlike a peer program, KVM cannot be installed by {@code .ci/run}: it needs hardware
     * virtualization (or a host that offers nested KVM) and the kernel's module, so a machine without it skips
     * loudly even under {@code VIOPLANE_REQUIRE_PEERS=1}; {@code VIOPLANE_REQUIRE_KVM=1} makes it a failure on
     * machines that are meant to have it.
     */
    public static void requireKvm() {
        if (Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"))) {
            return;
        }
        final String message = "NEEDS /dev/kvm (not present on this machine; hardware virtualization or the kvm"
                + " module is missing, which no package can install)";
        if ("1".equals(System.getenv("VIOPLANE_REQUIRE_KVM"))) {
            Assertions.fail(message + " (VIOPLANE_REQUIRE_KVM=1)");
        }
        System.err.println("\n*** SKIPPED: " + message + " ***\n");
        Assumptions.abort(message);
    }

    /** Requires that {@code command} is on the PATH; {@code what} names its package. */
    public static void requireCommand(final String command, final String what) {
        require(onPath(command), what + ": '" + command + "' on PATH");
    }

    /** @return true if {@code command} is an executable on the PATH */
    public static boolean onPath(final String command) {
        try {
            final Process process = new ProcessBuilder("sh", "-c", "command -v " + command).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
