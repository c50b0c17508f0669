package io.vioplane.platform.testing.peers;

import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a {@link QemuGuest} starts and ends without booting all the way: QEMU's own error reaches the caller
 * when it cannot start, and close() ends the process it started, taking its TAP with it.
 */
@Tag("qemu")
class QemuGuestLifecycleTest {
    private static final Duration TAP_APPEARS_TIMEOUT = Duration.ofSeconds(60);

    @BeforeEach
    void requireQemuAndImageInputs() {
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
    }

    @Test
    void awaitShellFailsWithQemusOwnMessageWhenQemuCannotStart() {
        final String bogusDevice = "vioplane-no-such-device";
        try (QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard())
                .extraArguments("-device", bogusDevice).build()) {
            guest.start();
            final IllegalStateException failure = assertThrows(IllegalStateException.class,
                    () -> guest.awaitShell(Duration.ofSeconds(60)));
            assertTrue(failure.getMessage().contains("QEMU exited"), failure.getMessage());
            assertTrue(failure.getMessage().contains(bogusDevice), failure.getMessage());
        }
    }

    @Test
    void closeEndsQemuByItsPidAndItsTapGoesWithIt() throws Exception {
        Requirements.requireTapAndNetns();
        final String tapName = "vpl" + ProcessHandle.current().pid() % 100000;
        try (Netns netns = Netns.create("guest-close")) {
            final QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard()).netns(netns)
                    .extraArguments("-netdev", "tap,id=n0,ifname=" + tapName + ",script=no,downscript=no",
                            "-device", "virtio-net-pci,netdev=n0,romfile=")
                    .build();
            try {
                guest.start();
                final long deadlineNanos = System.nanoTime() + TAP_APPEARS_TIMEOUT.toNanos();
                while (netns.tryExec("ip", "link", "show", tapName).exitCode() != 0 && guest.isAlive()
                        && System.nanoTime() < deadlineNanos) {
                    Thread.sleep(100);
                }
                assertTrue(netns.tryExec("ip", "link", "show", tapName).exitCode() == 0,
                        "QEMU created its TAP in the namespace:\n"
                                + guest.consoleTail(QemuGuest.FAILURE_CONSOLE_TAIL_CHARS));
                final long pid = guest.pid();
                guest.close();
                assertFalse(guest.isAlive(), "QEMU has ended");
                assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "PID " + pid + " is gone");
                assertFalse(netns.tryExec("ip", "link", "show", tapName).exitCode() == 0, "the TAP went with QEMU");
            } finally {
                guest.close();
            }
        }
    }
}
