package io.vioplane.pciremote;

import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.SysException;

/**
 * The function's INTx pin as QEMU's proxy takes it: an irqfd with a resample fd (SET_IRQFD; KVM's level-triggered
 * irqfd, Documentation/virt/kvm/api.rst KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE). A rising level signals the irqfd;
 * when the guest's EOI de-asserts the line KVM signals the resample fd, and if the device's level is still high the
 * irqfd is signalled again. Both descriptors are made non-blocking (QEMU creates them so already), so a peer that hands
 * over something other than an eventfd cannot block the server.
 *
 * <p>Under TCG QEMU 7.2 never consumes the irqfd (measured): the guest gets no interrupt, whatever is signalled here.
 * One thread: the server's.
 */
public final class RemoteIntx implements AutoCloseable {
    private final CounterSet<MpqemuCounter> counters;
    private EventFd irqfd;
    private EventFd resamplefd;
    private boolean asserted;

    /** @param counters where signals and failures are counted */
    public RemoteIntx(final CounterSet<MpqemuCounter> counters) {
        this.counters = counters;
    }

    /** Drives the pin (the device's interrupt line). */
    public void set(final boolean level) {
        final boolean rising = level && !asserted;
        asserted = level;
        if (rising) {
            signal();
        }
    }

    /** @return the pin's level */
    public boolean asserted() {
        return asserted;
    }

    /** Takes {@code irq} and {@code resample} (closing any earlier pair); signals at once if the pin is high. */
    void connect(final int irq, final int resample) {
        closeFds();
        try {
            FileIo.setNonBlocking(irq, true);
            FileIo.setNonBlocking(resample, true);
        } catch (SysException e) {
            counters.increment(MpqemuCounter.INTERRUPT_FAILED);
        }
        irqfd = EventFd.adopt(irq);
        resamplefd = EventFd.adopt(resample);
        if (asserted) {
            signal();
        }
    }

    /** @return the resample descriptor to watch, or -1 */
    int resampleFd() {
        return resamplefd == null ? -1 : resamplefd.fd();
    }

    /** The resample fd became readable: the guest acknowledged; re-signal if the line is still asserted. */
    void resampled() {
        if (resamplefd == null) {
            return;
        }
        try {
            resamplefd.drain();
        } catch (SysException e) {
            counters.increment(MpqemuCounter.INTERRUPT_FAILED);
        }
        if (asserted) {
            counters.increment(MpqemuCounter.RESAMPLES);
            signal();
        }
    }

    private void signal() {
        if (irqfd == null) {
            return;
        }
        try {
            irqfd.signal();
            counters.increment(MpqemuCounter.INTERRUPTS);
        } catch (SysException e) {
            counters.increment(MpqemuCounter.INTERRUPT_FAILED);
        }
    }

    private void closeFds() {
        if (irqfd != null) {
            irqfd.close();
            irqfd = null;
        }
        if (resamplefd != null) {
            resamplefd.close();
            resamplefd = null;
        }
    }

    @Override
    public void close() {
        closeFds();
    }
}
