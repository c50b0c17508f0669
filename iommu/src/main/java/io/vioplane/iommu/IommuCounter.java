package io.vioplane.iommu;

import io.vioplane.platform.runtime.CounterKind;

/** What a VT-d unit counts besides its faults (those are counted per {@link FaultReason}). */
public enum IommuCounter implements CounterKind {
    /** Translations not found in the IOTLB: each cost a table walk. */
    IOTLB_MISSES("translations: IOTLB misses (table walks)"),
    /** Faults written to a fault recording register. */
    FAULTS_RECORDED("faults: recorded"),
    /** Faults of a device whose context entry (or IRTE) sets FPD: counted, not recorded. */
    FAULTS_SUPPRESSED("faults: not recorded, the guest set FPD"),
    /** Faults lost because the fault recording registers were full (FSTS.PFO). */
    FAULTS_OVERFLOWED("faults: lost, the guest left every fault register full"),
    /** Translations that led outside guest memory: the guest mapped an iova to a gpa it does not have. */
    OUTSIDE_GUEST_MEMORY("DMA: guest mapped an iova outside guest memory"),
    /** Invalidation queue errors (FSTS.IQE): a bad tail, descriptor, or wait status address. */
    QUEUE_ERRORS("invalidation queue: guest queued a bad tail or descriptor (IQE)"),
    /** Register accesses the guest got wrong: unknown offsets, bad sizes, several GCMD commands at once. */
    REGISTER_MISUSE("registers: guest misused a register"),
    /** Context-cache invalidations performed. */
    CONTEXT_INVALIDATIONS("invalidations: context cache"),
    /** IOTLB invalidations performed. */
    IOTLB_INVALIDATIONS("invalidations: IOTLB"),
    /** Device-IOTLB invalidations performed. */
    DEVICE_IOTLB_INVALIDATIONS("invalidations: device IOTLB"),
    /** Interrupt-entry-cache invalidations performed. */
    INTERRUPT_ENTRY_INVALIDATIONS("invalidations: interrupt entry cache"),
    /** Invalidation wait descriptors completed. */
    WAITS("invalidations: wait descriptors"),
    /** Interrupts remapped through an IRTE. */
    INTERRUPTS_REMAPPED("interrupts: remapped"),
    /** Interrupts posted into a posted-interrupt descriptor. */
    INTERRUPTS_POSTED("interrupts: posted"),
    /** Posted interrupts that sent a notification (ON was 0 and SN was 0, or urgent). */
    POSTED_NOTIFICATIONS("interrupts: posted notifications sent"),
    /** Posted-interrupt descriptors outside guest memory. */
    POSTED_DESCRIPTOR_ERRORS("interrupts: guest's posted-interrupt descriptor outside memory");

    private final String label;

    IommuCounter(final String label) {
        this.label = label;
    }

    @Override
    public String label() {
        return label;
    }
}
