package io.vioplane.iommu;

/**
 * What the VMM's interrupt side provides to deliver what the VT-d unit remapped (VT-d 3.x chapter 5). The
 * posted-interrupt notification is the hook the VT-x model uses: it receives the notification vector (NV) and
 * destination (NDST) of a descriptor whose ON bit the unit just set, and processes the descriptor's PIR into the
 * virtual APIC (Intel SDM Vol. 3C section 30.6) without a VM exit; on /dev/kvm it goes out through an irqfd.
 */
public interface InterruptDelivery {
    /** Delivers a remapped or unmapped interrupt to the interrupt controller. */
    void deliver(InterruptRoute route);

    /**
     * Sends the posted-interrupt notification: the physical interrupt {@code notificationVector} to the CPU whose
     * APIC id is {@code destination}.
     */
    void notifyPosted(int notificationVector, int destination);
}
