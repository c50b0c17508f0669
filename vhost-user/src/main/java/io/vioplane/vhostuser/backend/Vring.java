package io.vioplane.vhostuser.backend;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.vhostuser.protocol.VhostUserException;
import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vring.QueueConfig;
import io.vioplane.vring.QueueState;

/**
 * One vring's state machine (QEMU docs/interop/vhost-user.rst "Ring states", as rust-vmm's vhost-user-backend keeps
 * it in its vring object): what the front-end set (SET_VRING_NUM, _ADDR, _BASE, _KICK, _CALL, _ERR, _ENABLE), stopped
 * until started by a kick, stopped again by GET_VRING_BASE with its base returned, enabled or disabled independently.
 * Each transition checks what the front-end may change in the current state and refuses the rest
 * ({@link VhostUserException}); the back-end runs the queue. Control-plane thread only.
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
    /** Ready to start, but its ring areas lack IOTLB translations (asked for): started again after an UPDATE. */
    boolean waitingForTranslation;
    boolean enabled;
    EventFd kick;
    boolean pollWithoutKick;
    final VringCall call = new VringCall();
    EventFd err;

    Vring(final int index) {
        this.index = index;
    }

    /** SET_VRING_NUM: the ring's size, while it is stopped. */
    void setSize(final int requestedSize) {
        if (requestedSize < 1 || requestedSize > QueueConfig.MAX_SIZE) {
            throw refuse("vring " + index + " size " + requestedSize + " is not 1.." + QueueConfig.MAX_SIZE);
        }
        if (started) {
            throw refuse("vring " + index + " size changed while the ring runs");
        }
        size = requestedSize;
        sizeSet = true;
    }

    /**
     * SET_VRING_ADDR: the ring's areas while it is stopped; while it runs only its flags and log address may change.
     *
     * @return true if the ring runs (its logging changed, nothing else)
     */
    boolean setAddresses(final VhostUserMessage request) {
        if (started && (request.addrDesc() != descUserAddr || request.addrUsed() != usedUserAddr
                || request.addrAvail() != availUserAddr)) {
            throw refuse("vring " + index + " addresses changed while the ring runs");
        }
        flags = request.addrFlags();
        logGuestAddr = request.addrLog();
        if (started) {
            return true;
        }
        descUserAddr = request.addrDesc();
        usedUserAddr = request.addrUsed();
        availUserAddr = request.addrAvail();
        addressesSet = true;
        return false;
    }

    /** SET_VRING_BASE: where the ring resumes, while it is stopped. */
    void setBase(final int requestedBase) {
        if (started) {
            throw refuse("vring " + index + " base changed while the ring runs");
        }
        base = requestedBase;
    }

    /** SET_VRING_ENABLE. */
    void setEnabled(final int enable) {
        if (enable != 0 && enable != 1) {
            throw refuse("vring " + index + " enable value " + enable + " is not 0 or 1");
        }
        enabled = enable == 1;
    }

    /**
     * GET_VRING_BASE: the ring is stopped (by the caller, which gives the queue's last state, or null if the queue
     * was gone) and its kick released.
     *
     * @return the base to reply: where the ring stood
     */
    int stop(final QueueState lastState, final boolean packed) {
        waitingForTranslation = false;
        if (started) {
            started = false;
            if (lastState != null) {
                base = packed ? lastState.packedVringBase() : lastState.nextAvailIndex();
            }
        }
        if (kick != null) {
            kick.close();
            kick = null;
        }
        pollWithoutKick = false;
        return base;
    }

    /**
     * The ring was stopped by the back-end (an invalidation took its areas' translations): it resumes where it stood
     * once started again, with its kick and call kept.
     */
    void pause(final QueueState lastState, final boolean packed) {
        started = false;
        if (lastState != null) {
            base = packed ? lastState.packedVringBase() : lastState.nextAvailIndex();
        }
    }

    /** RESET_DEVICE: forgets what the front-end set (the eventfds are closed). */
    void reset() {
        closeEventFds();
        waitingForTranslation = false;
        sizeSet = false;
        addressesSet = false;
        enabled = false;
        base = 0;
    }

    private static VhostUserException refuse(final String why) {
        return new VhostUserException(why, false);
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
