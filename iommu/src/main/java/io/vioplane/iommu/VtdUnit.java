package io.vioplane.iommu;

import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.platform.memory.MemoryAccessException;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;

/**
 * One VT-d DMA-remapping hardware unit (VT-d 3.x): legacy-mode DMA remapping (chapter 3), the context cache and
 * IOTLB with register-based and queued invalidation (chapter 6), fault recording and the fault event (chapter 7),
 * interrupt remapping and posting (chapter 5), and its register file (chapter 11, {@link #registers()}).
 *
 * <p>Devices reach it through {@link #dmaSpace}, the {@link IommuDmaSpace} decorator of guest memory for one
 * source ID. The translation slow path, invalidations and register accesses share one lock (this object); the
 * decorator's hot path reads two volatile fields ({@link #translationEnabled()} and {@link #generation()}) and its
 * own per-device cache. The generation advances with every invalidation and every TE change, so a translation
 * stays visible exactly until the invalidation that removes it.
 *
 * <p>Every guest mistake is a spec fault (recorded unless FPD, counted per {@link FaultReason}) or, for register
 * and queue misuse, a counted {@link ErrorLog#failure} line; none reaches outside guest memory.
 */
public final class VtdUnit implements AutoCloseable {
    private final DmaSpace memory;
    private final VtdConfig config;
    private final MsiSink events;
    private final ErrorLog log;
    private final String name;
    private final CounterSet<IommuCounter> counters;
    private final CounterSet<FaultReason> faults;
    private final TranslationWalker walker;
    private final ContextCache contextCache = new ContextCache();
    private final Iotlb iotlb = new Iotlb();
    private final VtdRegisterFile registers;
    private final InvalidationQueue queue;
    private final InterruptRemapper interrupts;

    private volatile boolean translationEnabled;
    private volatile long generation;
    private long rootTableGpa;

    /**
     * @param memory   guest memory: the tables, the queue and every translated DMA live here
     * @param config   what the unit supports
     * @param events   where fault and invalidation completion events go
     * @param counters where the unit's counters are published
     * @param name     the unit's name in counter labels and log lines, e.g. {@code "iommu[0]"}
     * @param log      where guest misuse is reported
     */
    public VtdUnit(final DmaSpace memory, final VtdConfig config, final MsiSink events, final Counters counters,
                   final String name, final ErrorLog log) {
        this.memory = memory;
        this.config = config;
        this.events = events;
        this.log = log;
        this.name = name;
        this.counters = new CounterSet<>(counters, IommuCounter.class, name, CounterType.DEVICE);
        this.faults = new CounterSet<>(counters, FaultReason.class, name, CounterType.DEVICE);
        this.walker = new TranslationWalker(memory, config);
        this.registers = new VtdRegisterFile(this, config);
        this.queue = new InvalidationQueue(this, registers, memory);
        this.interrupts = new InterruptRemapper(memory, config);
    }

    /** @return the register file, for the MMIO device that exposes it */
    public VtdRegisterFile registers() {
        return registers;
    }

    /** @return what the unit supports */
    public VtdConfig config() {
        return config;
    }

    /** @return the address space device {@code sourceId} does DMA in: guest memory seen through this unit */
    public IommuDmaSpace dmaSpace(final int sourceId) {
        return new IommuDmaSpace(this, memory, sourceId);
    }

    /** @return true while GSTS.TES is set: DMA is translated; otherwise it reaches guest memory untranslated */
    public boolean translationEnabled() {
        return translationEnabled;
    }

    /** @return a number that changes whenever a cached translation may have become invalid */
    public long generation() {
        return generation;
    }

    /** @return how many times {@code kind} happened */
    public long count(final IommuCounter kind) {
        return counters.get(kind);
    }

    /** @return how many faults of {@code reason} happened, recorded or not */
    public long faults(final FaultReason reason) {
        return faults.get(reason);
    }

    /**
     * Translates the page containing {@code iova} for device {@code sourceId}: context cache, then IOTLB, then a
     * table walk. A fault is recorded (unless the context entry sets FPD) and counted before it is thrown.
     *
     * @throws DmaFault with the spec's fault reason
     */
    public IotlbEntry translate(final int sourceId, final long iova, final AccessMode mode) {
        synchronized (this) {
            ContextEntry context = contextCache.lookup(sourceId);
            try {
                if (context == null) {
                    context = walker.readContext(rootTableGpa, sourceId);
                    contextCache.insert(context);
                }
                IotlbEntry entry = context.passThrough() ? null : iotlb.lookup(context.domainId(), iova);
                if (entry == null) {
                    counters.increment(IommuCounter.IOTLB_MISSES);
                    entry = walker.walk(context, iova, mode);
                    if (!context.passThrough()) {
                        iotlb.insert(entry);
                    }
                }
                if (mode.reads() && (entry.permissions() & IotlbEntry.READ) == 0) {
                    throw new DmaFault(FaultReason.READ_DENIED, sourceId, iova);
                }
                if (mode.writes() && (entry.permissions() & IotlbEntry.WRITE) == 0) {
                    throw new DmaFault(FaultReason.WRITE_DENIED, sourceId, iova);
                }
                return entry;
            } catch (DmaFault fault) {
                report(fault, context != null && context.faultsSuppressed(), iova & ~0xFFFL, !mode.writes());
                throw fault;
            }
        }
    }

    /**
     * Remaps an interrupt request from {@code sourceId} and delivers it: a remapped or unmapped interrupt to
     * {@link InterruptDelivery#deliver}, a posted one into its descriptor, with
     * {@link InterruptDelivery#notifyPosted} when the post turned ON from 0 to 1 while SN was 0 (or URG).
     *
     * @return the route taken
     * @throws DmaFault with the spec's interrupt-remapping fault reason (recorded unless the IRTE sets FPD)
     * @throws MemoryAccessException if a posted interrupt's descriptor is not in guest memory (counted)
     */
    public InterruptRoute signalInterrupt(final int sourceId, final MsiMessage request,
                                          final InterruptDelivery delivery) {
        final InterruptRoute route;
        synchronized (this) {
            try {
                route = interrupts.route(sourceId, request);
            } catch (DmaFault fault) {
                final Irte entry = interrupts.cached((int) fault.address());
                final boolean suppressed = fault.reason() != FaultReason.IR_ENTRY_NOT_PRESENT
                        && fault.reason() != FaultReason.IR_TABLE_ACCESS_ERROR && entry != null
                        && entry.faultsSuppressed();
                report(fault, suppressed, fault.address() << 48, false);
                throw fault;
            }
            if (route instanceof InterruptRoute.Posted posted) {
                final long control;
                try {
                    control = PostedInterruptDescriptor.post(memory, posted.descriptorGpa(), posted.vector(),
                            posted.urgent());
                } catch (MemoryAccessException e) {
                    counters.increment(IommuCounter.POSTED_DESCRIPTOR_ERRORS);
                    log.failure(name + ": guest's posted-interrupt descriptor is not in guest memory: "
                            + e.getMessage());
                    throw e;
                }
                counters.increment(IommuCounter.INTERRUPTS_POSTED);
                if (control != PostedInterruptDescriptor.NO_NOTIFICATION) {
                    counters.increment(IommuCounter.POSTED_NOTIFICATIONS);
                    delivery.notifyPosted(PostedInterruptDescriptor.notificationVector(control),
                            PostedInterruptDescriptor.notificationDestination(control));
                }
                return route;
            }
            if (route instanceof InterruptRoute.Remapped) {
                counters.increment(IommuCounter.INTERRUPTS_REMAPPED);
            }
        }
        delivery.deliver(route);
        return route;
    }

    private void report(final DmaFault fault, final boolean suppressed, final long faultInfo, final boolean read) {
        faults.increment(fault.reason());
        if (suppressed) {
            counters.increment(IommuCounter.FAULTS_SUPPRESSED);
        } else if (registers.recordFault(fault.sourceId(), fault.reason(), faultInfo, read)) {
            counters.increment(IommuCounter.FAULTS_RECORDED);
        } else {
            counters.increment(IommuCounter.FAULTS_OVERFLOWED);
        }
    }

    synchronized void countOutsideGuestMemory() {
        counters.increment(IommuCounter.OUTSIDE_GUEST_MEMORY);
    }

    void misuse(final String what) {
        counters.increment(IommuCounter.REGISTER_MISUSE);
        log.failure(name + ": " + what);
    }

    void queueError(final String what) {
        counters.increment(IommuCounter.QUEUE_ERRORS);
        log.failure(name + ": " + what);
        registers.queueError();
    }

    void sendEvent(final MsiMessage message) {
        events.send(message);
    }

    void latchRootTable(final long rootTableAddress) {
        rootTableGpa = rootTableAddress;
    }

    void enableTranslation(final boolean on) {
        translationEnabled = on;
        generation++;
    }

    void latchInterruptTable(final long irta) {
        interrupts.latchTable(irta);
    }

    void enableInterruptRemapping(final boolean on) {
        interrupts.enable(on);
    }

    void allowCompatibilityInterrupts(final boolean allowed) {
        interrupts.allowCompatibility(allowed);
    }

    void drainInvalidationQueue() {
        queue.drain();
    }

    /**
     * Context-cache invalidation (register CCMD or descriptor type 1).
     *
     * @param granularity 1 global, 2 domain, 3 device (0 is reserved)
     * @return false for the reserved granularity
     */
    boolean invalidateContextCache(final int granularity, final int domainId, final int sourceId,
                                   final int functionMask) {
        switch (granularity) {
            case 1 -> contextCache.invalidateAll();
            case 2 -> contextCache.invalidateDomain(domainId);
            case 3 -> contextCache.invalidateDevice(sourceId, functionMask);
            default -> {
                return false;
            }
        }
        counters.increment(IommuCounter.CONTEXT_INVALIDATIONS);
        generation++;
        return true;
    }

    /**
     * IOTLB invalidation (register IOTLB/IVA or descriptor type 2).
     *
     * @param granularity 1 global, 2 domain, 3 page (0 is reserved)
     * @param addressMask page-selective: invalidate 2^addressMask pages (at most MAMV)
     * @return false for the reserved granularity or a mask above MAMV
     */
    boolean invalidateIotlb(final int granularity, final int domainId, final long iova, final int addressMask) {
        switch (granularity) {
            case 1 -> iotlb.invalidateAll();
            case 2 -> iotlb.invalidateDomain(domainId);
            case 3 -> {
                if (addressMask > VtdConfig.MAX_ADDRESS_MASK) {
                    return false;
                }
                iotlb.invalidatePages(domainId, iova, addressMask);
            }
            default -> {
                return false;
            }
        }
        counters.increment(IommuCounter.IOTLB_INVALIDATIONS);
        generation++;
        return true;
    }

    /**
     * Device-IOTLB invalidation (descriptor type 3). The unit offers no ATS (ECAP.DT = 0), so no device holds
     * translations of its own beyond the decorator's per-device cache, which the generation flushes.
     */
    void invalidateDeviceIotlb(final int sourceId) {
        counters.increment(IommuCounter.DEVICE_IOTLB_INVALIDATIONS);
        generation++;
    }

    void invalidateInterruptEntries(final boolean global, final int index, final int indexMask) {
        interrupts.invalidate(global, index, indexMask);
        counters.increment(IommuCounter.INTERRUPT_ENTRY_INVALIDATIONS);
    }

    void waitCompleted(final boolean interrupt) {
        counters.increment(IommuCounter.WAITS);
        if (interrupt) {
            registers.waitCompleted();
        }
    }

    /** Frees the unit's counters; their final values stay readable. */
    @Override
    public void close() {
        counters.close();
        faults.close();
    }
}
