package io.vioplane.cli.remote;

import io.vioplane.cli.nic.E1000Link;
import io.vioplane.e1000.DeviceClock;
import io.vioplane.e1000.E1000Counter;
import io.vioplane.e1000.E1000PciFunction;
import io.vioplane.pciremote.MpqemuCounter;
import io.vioplane.pciremote.MpqemuServer;
import io.vioplane.pciremote.RemoteDevice;
import io.vioplane.pciremote.RemoteGuestMemory;
import io.vioplane.pciremote.RemoteIntx;
import io.vioplane.platform.pci.PciFunction;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.DataPlane;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.virtionet.port.NetPort;

/**
 * One 82540EM ({@link E1000PciFunction}) served to one QEMU through {@code -device x-pci-proxy-dev,fd=N}
 * ({@link MpqemuServer}): QEMU's guest RAM is the device's DMA space, its irqfd the device's INTA#, and the device's
 * timers and receive side run on the serving thread between QEMU's requests.
 *
 * <p>Built on the thread that then calls {@link #serve()}; {@link #stop()} from any thread; {@link #close()} after
 * {@link #serve()} returned.
 */
public final class RemoteE1000 implements RemoteDevice, AutoCloseable {
    private final CounterSet<MpqemuCounter> protocolCounters;
    private final CounterSet<E1000Counter> deviceCounters;
    private final E1000PciFunction e1000;
    private final MpqemuServer server;
    private final DataPlane.Pollable hostSide;

    /**
     * @param socketFd   the connected socket whose other end QEMU holds; owned from now on
     * @param link       the device's network side (a TAP, or nowhere); the caller closes it after this
     * @param macAddress the EEPROM's Ethernet address, first octet in the low byte
     * @param name       names the counters, e.g. {@code e1000[0]}
     */
    public RemoteE1000(final int socketFd, final E1000Link link, final long macAddress, final Counters counters,
                       final ErrorLog log, final String name) {
        this(socketFd, link.port(), link.hostSide(), macAddress, counters, log, name);
    }

    /** A device whose port needs no polling (frames dropped, a test's port). */
    public RemoteE1000(final int socketFd, final NetPort port, final long macAddress, final Counters counters,
                       final ErrorLog log, final String name) {
        this(socketFd, port, null, macAddress, counters, log, name);
    }

    /**
     * @param hostSide what moves frames from the host into {@code port} (a TAP bridged to it), polled on the serving
     *                 thread before the device; null when the port needs no polling
     */
    public RemoteE1000(final int socketFd, final NetPort port, final DataPlane.Pollable hostSide,
                       final long macAddress, final Counters counters, final ErrorLog log, final String name) {
        this.hostSide = hostSide;
        this.protocolCounters = new CounterSet<>(counters, MpqemuCounter.class, name + " mpqemu", CounterType.DEVICE);
        this.deviceCounters = new CounterSet<>(counters, E1000Counter.class, name, CounterType.DEVICE);
        final RemoteGuestMemory memory = new RemoteGuestMemory(protocolCounters);
        final RemoteIntx intx = new RemoteIntx(protocolCounters);
        this.e1000 = new E1000PciFunction(memory, port, intx::set, DeviceClock.SYSTEM, macAddress, deviceCounters);
        e1000.device().autoNegotiationTime(E1000Link.AUTO_NEGOTIATION_NS);
        this.server = new MpqemuServer(socketFd, this, memory, intx, protocolCounters, log);
    }

    /**
     * Serves QEMU until it closes the connection or {@link #stop()}.
     *
     * @return why serving ended
     */
    public String serve() {
        return server.serve();
    }

    /** Ends {@link #serve()} from any thread. */
    public void stop() {
        server.stop();
    }

    @Override
    public PciFunction function() {
        return e1000.function();
    }

    @Override
    public void reset() {
        e1000.reset();
    }

    @Override
    public int poll() {
        return E1000Link.poll(hostSide, e1000.device());
    }

    @Override
    public long nextDeadlineNs() {
        return e1000.device().nextDeadlineNs();
    }

    /** @return the device (registers, EEPROM) for dumps and tests; touch it only from the serving thread or after */
    public E1000PciFunction e1000() {
        return e1000;
    }

    /** @return QEMU's requests and refusals */
    public CounterSet<MpqemuCounter> protocolCounters() {
        return protocolCounters;
    }

    /** @return the device's counters */
    public CounterSet<E1000Counter> deviceCounters() {
        return deviceCounters;
    }

    @Override
    public void close() {
        server.close();
        e1000.close();
        protocolCounters.close();
        deviceCounters.close();
    }
}
