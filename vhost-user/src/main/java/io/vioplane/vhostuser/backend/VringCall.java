package io.vioplane.vhostuser.backend;

import io.vioplane.platform.irq.Interrupt;
import io.vioplane.platform.sys.EventFd;

/**
 * A vring's used-buffer interrupt: signals the call eventfd the front-end gave (SET_VRING_CALL), which the
 * front-end may replace while the ring runs; without one (NOFD, or none given yet) the front-end polls and
 * nothing is signalled.
 */
public final class VringCall implements Interrupt {
    private volatile EventFd target;

    /** @return the current call eventfd, or null */
    public EventFd target() {
        return target;
    }

    /**
     * Points the interrupt at a new eventfd.
     *
     * @return the previous one, for the caller to close once the data plane cannot use it any more
     */
    public EventFd retarget(final EventFd eventFd) {
        final EventFd previous = target;
        target = eventFd;
        return previous;
    }

    @Override
    public void trigger() {
        final EventFd eventFd = target;
        if (eventFd != null) {
            eventFd.add(1);
        }
    }
}
