package io.vioplane.platform.irq;

import io.vioplane.platform.sys.EventFd;

/**
 * An interrupt delivered by signalling an eventfd: the vhost-user call fd the front-end polls, or a KVM
 * irqfd that injects the interrupt into the guest (Linux KVM API, KVM_IRQFD).
 */
public final class EventFdInterrupt implements Interrupt, AutoCloseable {
    private final EventFd eventFd;

    /** @param eventFd the eventfd to signal; this interrupt owns it */
    public EventFdInterrupt(final EventFd eventFd) {
        this.eventFd = eventFd;
    }

    /** @return the underlying eventfd */
    public EventFd eventFd() {
        return eventFd;
    }

    @Override
    public void trigger() {
        eventFd.signal();
    }

    /** Closes the eventfd. */
    @Override
    public void close() {
        eventFd.close();
    }
}
