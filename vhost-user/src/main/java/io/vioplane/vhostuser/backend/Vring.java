package io.vioplane.vhostuser.backend;

import io.vioplane.platform.sys.EventFd;

/**
 * What the front-end told the back-end about one vring (SET_VRING_NUM, _ADDR, _BASE, _KICK, _CALL, _ERR,
 * _ENABLE), and its state (QEMU docs/interop/vhost-user.rst "Ring states": stopped until started by a kick,
 * stopped again by GET_VRING_BASE; enabled or disabled independently). Control-plane thread only.
 */
final class Vring {
    final int index;
    int size;
    boolean sizeSet;
    int flags;
    long descUserAddr;
    long usedUserAddr;
    long availUserAddr;
    long logGuestAddr;
    boolean addressesSet;
    int base;
    boolean started;
    boolean enabled;
    EventFd kick;
    boolean pollWithoutKick;
    final VringCall call = new VringCall();
    EventFd err;

    Vring(final int index) {
        this.index = index;
    }

    /** @return true if the front-end asked for used-ring logging (VHOST_VRING_F_LOG) */
    boolean logUsed() {
        return (flags & 1) != 0;
    }

    /** @return true if size, addresses and a kick (or polling) are set: the ring can start */
    boolean readyToStart() {
        return sizeSet && addressesSet && (kick != null || pollWithoutKick);
    }

    /** Closes the eventfds this vring holds. */
    void closeEventFds() {
        if (kick != null) {
            kick.close();
            kick = null;
        }
        final EventFd callFd = call.retarget(null);
        if (callFd != null) {
            callFd.close();
        }
        if (err != null) {
            err.close();
            err = null;
        }
        pollWithoutKick = false;
    }

    @Override
    public String toString() {
        return "vring " + index + (started ? " started" : " stopped") + (enabled ? "+enabled" : "+disabled");
    }
}
