package io.vioplane.platform.sys;

import io.vioplane.platform.testing.OpenFds;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class OwnedFdTest {
    @Test
    void closesWhatItOwnsExactlyOnceEvenWhenTheWorkFails() {
        final int baseline = OpenFds.count();
        assertThrows(SysException.class, () -> {
            try (OwnedFd socket = OwnedFd.adopt(UnixSockets.socket(false))) {
                UnixSockets.connect(socket.fd(), "/nonexistent/vioplane-" + ProcessHandle.current().pid());
            }
        });
        assertEquals(baseline, OpenFds.count(), "the socket that did not connect was closed");
        final OwnedFd closedTwice = OwnedFd.adopt(UnixSockets.socket(false));
        closedTwice.close();
        closedTwice.close();
        assertFalse(closedTwice.isOpen());
        assertThrows(IllegalStateException.class, closedTwice::fd);
        assertEquals(baseline, OpenFds.count());
    }

    @Test
    void aReleasedDescriptorIsTheNewOwnersToClose() {
        final int baseline = OpenFds.count();
        final int released;
        try (OwnedFd owned = OwnedFd.adopt(UnixSockets.socket(false))) {
            released = owned.release();
        }
        assertEquals(baseline + 1, OpenFds.count(), "release handed the duty on");
        FileIo.close(released);
        assertEquals(baseline, OpenFds.count());
        assertThrows(IllegalArgumentException.class, () -> OwnedFd.adopt(-1));
    }
}
