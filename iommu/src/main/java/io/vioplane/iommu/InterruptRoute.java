package io.vioplane.iommu;

import io.vioplane.platform.irq.MsiMessage;

/**
 * Where an interrupt request goes after interrupt remapping (VT-d 3.x chapter 5): to a local APIC as the IRTE
 * says, into a posted-interrupt descriptor, or unchanged (compatibility format, or remapping off).
 */
public sealed interface InterruptRoute {
    /**
     * Remapped through an IRTE (section 5.1.4).
     *
     * @param vector             the vector
     * @param destination        destination APIC id (x2APIC: 32 bits)
     * @param deliveryMode       0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT
     * @param logicalDestination destination mode
     * @param levelTriggered     trigger mode
     * @param redirectionHint    redirection hint
     */
    record Remapped(int vector, int destination, int deliveryMode, boolean logicalDestination,
                    boolean levelTriggered, boolean redirectionHint) implements InterruptRoute {
    }

    /**
     * Posted into the descriptor at {@code descriptorGpa} (section 5.2).
     *
     * @param vector        the virtual vector posted (PIR bit)
     * @param descriptorGpa the posted-interrupt descriptor
     * @param urgent        URG: notify even when the descriptor suppresses notifications (SN)
     */
    record Posted(int vector, long descriptorGpa, boolean urgent) implements InterruptRoute {
    }

    /**
     * Not remapped: interrupt remapping is off, or a compatibility-format request with CFI set (section 5.1.3).
     *
     * @param message the request, delivered as it is
     */
    record Unmapped(MsiMessage message) implements InterruptRoute {
    }
}
