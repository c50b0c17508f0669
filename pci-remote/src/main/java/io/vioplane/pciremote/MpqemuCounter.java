package io.vioplane.pciremote;

import io.vioplane.platform.runtime.CounterKind;

/** What a remote PCI function counts: QEMU's requests by kind, and every refusal, named after who was at fault. */
public enum MpqemuCounter implements CounterKind {
    CONFIG_READS("requests: config reads"),
    CONFIG_WRITES("requests: config writes"),
    BAR_READS("requests: BAR reads"),
    BAR_WRITES("requests: BAR writes"),
    MEMORY_SYNCS("requests: guest memory tables (SYNC_SYSMEM)"),
    RESETS("requests: device resets"),
    INTERRUPTS("interrupts signalled on the irqfd"),
    RESAMPLES("resamples: the line was still asserted after the guest's EOI"),
    MALFORMED_MESSAGE("refused: QEMU sent a message of unknown command, wrong size or wrong descriptor count"),
    BAD_CONFIG_ACCESS("refused: QEMU sent a config access of bad size, alignment or offset"),
    BAR_ACCESS_OUTSIDE_BARS("refused: QEMU sent a BAR access at an address no BAR holds, or of bad size"),
    BAD_MEMORY_TABLE("refused: QEMU sent a memory table with an empty, wrapping, overlapping or short region"),
    DMA_WITHOUT_MEMORY("refused: the device accessed guest memory before QEMU sent any"),
    INTERRUPT_FAILED("failures: writing the irqfd failed");

    private final String label;

    MpqemuCounter(final String label) {
        this.label = label;
    }

    @Override
    public String label() {
        return label;
    }
}
