package io.vioplane.vmx.machine;

import io.vioplane.platform.runtime.CounterKind;

/** What a guest did that the VMM refused or stopped it for; each is counted and named in the run's outcome. */
public enum GuestFault implements CounterKind {
    UNCLAIMED_MMIO("guest faults: access to a guest-physical address no RAM or device backs"),
    UNCLAIMED_IO("guest faults: access to an I/O port no device claims"),
    STRING_IO("guest faults: string I/O (rep ins/outs), which the VMM does not emulate"),
    TRIPLE_FAULT("guest faults: triple fault"),
    ENTRY_FAILURE("guest faults: VM entry failed on the guest's state"),
    KVM_INTERNAL_ERROR("guest faults: KVM could not emulate an instruction"),
    UNEXPECTED_EXIT("guest faults: an exit the VMM has no handler for"),
    WATCHDOG("guest faults: no VM exit within the watchdog's time"),
    DEBUG_DEVICE_BAD_REGISTER("guest faults: debug device register or access size unknown"),
    DEBUG_DEVICE_BAD_BUFFER("guest faults: debug device buffer too long or outside guest memory"),
    BAR_WINDOW_UNCLAIMED("guest faults: access in the PCI window where no BAR decodes");

    private final String label;

    GuestFault(final String label) {
        this.label = label;
    }

    @Override
    public String label() {
        return label;
    }
}
