package io.vioplane.vmx.machine;

import io.vioplane.iommu.VtdConfig;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.vmx.cpu.BootCpuState;
import io.vioplane.vmx.exit.ExitReason;
import io.vioplane.vmx.exit.VmExit;
import io.vioplane.vmx.vcpu.Vcpu;

import java.time.Duration;

/**
 * A one-vCPU virtual machine: guest RAM from GPA 0, an MMIO bus and a port-I/O bus devices claim ranges of, the
 * {@link DebugDevice}, a PCI host bridge ({@link PciPlatform}), optionally a VT-d unit ({@link #attachIommu},
 * registers at {@link VtdMmioDevice#BASE_GPA}), and the run loop that hands each VT-x exit (Intel SDM Vol. 3,
 * chapter 28) to the device that claims the access, counts it by basic reason ({@link ExitCounters}) and ends the
 * run when the guest is done, faults, or stays quiet longer than the {@link Watchdog} allows.
 *
 * <p>Faults the VMM refuses end the run with {@link RunOutcome.Ending#FAULT} and a message naming the reason:
 * triple fault, an access no device claims, string I/O, KVM's emulation failure, a failed VM entry. The VMM
 * itself never throws for what a guest did. {@link #close()} releases the vCPU, the backend, the IOMMU's counters,
 * guest memory and the counters; nothing is left open.
 */
public final class Machine implements AutoCloseable {
    /** Guest RAM starts here. */
    public static final long RAM_GPA = 0;

    private final String name;
    private final GuestMemory memory;
    private final Bus mmio = new Bus("MMIO");
    private final Bus ports = new Bus("port I/O");
    private final ExitCounters counters;
    private final DebugDevice debug;
    private final PciPlatform pci;
    private final VcpuBackend backend;
    private final ErrorLog log;
    private final Counters processCounters;
    private final long watchdogNs;
    private VtdMmioDevice iommu;
    private Vcpu vcpu;
    private boolean closed;

    /**
     * @param console  where the guest's console lines go
     * @param log      where the VMM reports how a run ended (a guest fault is a failure: printed once per kind)
     * @param watchdog how long the guest may go without an exit
     */
    public Machine(final String name, final long memoryBytes, final VcpuBackend backend, final Counters counters,
                   final GuestConsole console, final ErrorLog log, final Duration watchdog) {
        this.name = name;
        this.backend = backend;
        this.log = log;
        this.processCounters = counters;
        this.watchdogNs = watchdog.toNanos();
        this.memory = GuestMemory.ofMemFd(RAM_GPA, memoryBytes);
        this.counters = new ExitCounters(counters, name);
        this.debug = new DebugDevice(memory, console, this.counters);
        mmio.register(new AddressRange(DebugDevice.GPA, DebugDevice.SIZE_BYTES, "debug device"), debug);
        this.pci = new PciPlatform(mmio, ports, this.counters);
    }

    /** @return the PCI host bridge and BAR window, for devices to plug into before {@link #run} */
    public PciPlatform pci() {
        return pci;
    }

    /**
     * Gives the machine a VT-d remapping unit over its memory, its register window on the MMIO bus at
     * {@link VtdMmioDevice#BASE_GPA} (VT-d 3.x section 11.1). The loader then describes it in a DMAR table
     * (section 8.1). Before {@link #run}; at most once.
     *
     * @return the unit's window, whose {@link VtdMmioDevice#unit()} devices take their DMA spaces from
     */
    public VtdMmioDevice attachIommu(final VtdConfig config) {
        if (iommu != null) {
            throw new IllegalStateException("machine " + name + " already has an IOMMU");
        }
        if (vcpu != null) {
            throw new IllegalStateException("machine " + name + " has already run: cannot add an IOMMU");
        }
        final VtdMmioDevice device = new VtdMmioDevice(memory, config, processCounters, name, log);
        try {
            mmio.register(new AddressRange(VtdMmioDevice.BASE_GPA, device.windowBytes(), "VT-d registers"), device);
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        iommu = device;
        return device;
    }

    /** @return the machine's VT-d unit window, or null when it has none */
    public VtdMmioDevice iommu() {
        return iommu;
    }

    /** @return guest RAM */
    public GuestMemory memory() {
        return memory;
    }

    /** @return the MMIO bus, for devices to claim ranges on before {@link #run} */
    public Bus mmio() {
        return mmio;
    }

    /** @return the port-I/O bus */
    public Bus ports() {
        return ports;
    }

    /** @return the exit and fault counters */
    public ExitCounters counters() {
        return counters;
    }

    /** @return the privilege level the backend runs guest code at */
    public int guestRing() {
        return backend.guestRing();
    }

    /**
     * Seals the buses (an overlap is an error here), creates the vCPU, loads {@code boot} and runs the guest on the
     * calling thread until it ends.
     */
    public RunOutcome run(final BootCpuState boot, final long firstArgument) {
        if (vcpu != null) {
            throw new IllegalStateException("machine " + name + " has already run");
        }
        mmio.seal();
        ports.seal();
        vcpu = backend.createVcpu(memory);
        vcpu.load(boot, firstArgument);
        final long startNs = System.nanoTime();
        try (Watchdog watchdog = new Watchdog(vcpu, watchdogNs, name)) {
            final RunOutcome.Ending ending;
            VmExit fault = null;
            String message;
            while (true) {
                final VmExit exit = vcpu.run();
                watchdog.exitSeen();
                counters.exit(exit.reason());
                if (exit.reason() == ExitReason.EXTERNAL_INTERRUPT && !watchdog.fired()) {
                    continue;
                }
                message = handle(exit);
                if (message != null) {
                    final boolean watchdogStop = exit.reason() == ExitReason.EXTERNAL_INTERRUPT && watchdog.fired();
                    ending = watchdogStop ? RunOutcome.Ending.WATCHDOG
                            : exit.reason() == ExitReason.HLT ? RunOutcome.Ending.HALTED : RunOutcome.Ending.FAULT;
                    fault = ending == RunOutcome.Ending.FAULT ? exit : null;
                    if (watchdogStop) {
                        counters.fault(GuestFault.WATCHDOG);
                        message = "guest made no VM exit for " + Duration.ofNanos(watchdogNs).toMillis()
                                + " ms: stopped by the watchdog";
                    }
                    break;
                }
                if (debug.exitRequested()) {
                    ending = RunOutcome.Ending.GUEST_EXIT;
                    message = "guest exited with status " + debug.exitStatus();
                    break;
                }
            }
            debug.flush();
            if (ending == RunOutcome.Ending.GUEST_EXIT) {
                log.info("vm[" + name + "]: " + message);
            } else {
                log.failure("vm[" + name + "]: " + message);
            }
            return new RunOutcome(ending, debug.exitStatus(), debug.result(), fault, message,
                    counters.exitsByReason(), System.nanoTime() - startNs);
        }
    }

    /** @return null to keep running, else why the run ends */
    private String handle(final VmExit exit) {
        return switch (exit.reason()) {
            case ExitReason.EPT_VIOLATION -> access(mmio, exit, GuestFault.UNCLAIMED_MMIO);
            case ExitReason.IO_INSTRUCTION -> exit.detail() > 1 ? refuse(GuestFault.STRING_IO, exit)
                    : access(ports, exit, GuestFault.UNCLAIMED_IO);
            case ExitReason.EXTERNAL_INTERRUPT -> "the watchdog interrupted the vCPU";
            case ExitReason.HLT -> "guest halted without an exit status";
            default -> refuse(kind(exit), exit);
        };
    }

    private static GuestFault kind(final VmExit exit) {
        if (exit.entryFailure()) {
            return GuestFault.ENTRY_FAILURE;
        }
        return switch (exit.reason()) {
            case ExitReason.TRIPLE_FAULT -> GuestFault.TRIPLE_FAULT;
            case ExitReason.KVM_INTERNAL_ERROR -> GuestFault.KVM_INTERNAL_ERROR;
            default -> GuestFault.UNEXPECTED_EXIT;
        };
    }

    private String access(final Bus bus, final VmExit exit, final GuestFault unclaimedKind) {
        final long address = exit.accessAddress();
        final int sizeBytes = exit.accessSizeBytes();
        final int index = bus.find(address);
        if (index < 0 || !bus.contains(index, address, sizeBytes)) {
            return refuse(unclaimedKind, exit);
        }
        final BusDevice device = bus.device(index);
        final long offset = address - bus.start(index);
        if (exit.accessWrite()) {
            device.write(offset, sizeBytes, exit.accessValue());
        } else {
            vcpu.completeRead(device.read(offset, sizeBytes));
        }
        return null;
    }

    private String refuse(final GuestFault kind, final VmExit exit) {
        counters.fault(kind);
        return "guest fault " + kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + ": "
                + exit.describe();
    }

    /** Releases the vCPU, the backend, the IOMMU's counters, guest memory and the counters. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (vcpu != null) {
            vcpu.close();
        }
        backend.close();
        if (iommu != null) {
            iommu.close();
        }
        memory.close();
        counters.close();
    }
}
