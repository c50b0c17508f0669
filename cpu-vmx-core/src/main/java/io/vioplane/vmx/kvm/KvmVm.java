package io.vioplane.vmx.kvm;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.memory.GuestMemoryRegion;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.Ioctl;
import io.vioplane.platform.sys.Kvm;
import io.vioplane.platform.sys.Mmap;
import io.vioplane.platform.sys.SysException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A KVM virtual machine ({@code Documentation/virt/kvm/api.rst}, 4.2 KVM_CREATE_VM): its descriptor, the memory
 * slots that back guest RAM, the in-kernel interrupt controller, MSI routes with irqfds, and ioeventfds.
 *
 * <p>Guest RAM comes from {@link GuestMemory} regions: each becomes one memslot. The VMM advises huge pages and
 * pre-faults every page before the guest runs, because a first touch from the guest costs 600 times more on
 * kvm_pvm (KVM-PVM.md). Closing the VM closes the /dev/kvm and VM descriptors; the guest memory stays with its
 * owner.
 */
public final class KvmVm implements AutoCloseable {
    private static final long MADV_POPULATE_WRITE = 23;
    private static final long SMALL_PAGE_BYTES = 4096;
    private static final long TSS_GPA = 0xFFFB_D000L;

    private final int kvmFd;
    private final int vmFd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment argument;
    private int slots;
    private boolean irqchip;
    private boolean closed;

    private KvmVm(final int kvmFd, final int vmFd) {
        this.kvmFd = kvmFd;
        this.vmFd = vmFd;
        this.argument = arena.allocate(64, 8);
    }

    /**
     * Opens /dev/kvm, checks the API version and the capabilities the VMM relies on, and creates a VM.
     *
     * @throws SysException when /dev/kvm cannot be opened or the VM cannot be created
     * @throws IllegalStateException when KVM lacks a capability the VMM needs
     */
    public static KvmVm create() {
        final int kvmFd = Kvm.open();
        int vmFd = -1;
        try {
            final int version = Ioctl.invoke(kvmFd, Kvm.GET_API_VERSION, 0L, "KVM_GET_API_VERSION");
            if (version != Kvm.API_VERSION) {
                throw new IllegalStateException("KVM API version " + version + ", expected " + Kvm.API_VERSION);
            }
            for (int capability : new int[] {Kvm.CAP_USER_MEMORY, Kvm.CAP_IMMEDIATE_EXIT}) {
                if (Ioctl.tryInvoke(kvmFd, Kvm.CHECK_EXTENSION, capability) <= 0) {
                    throw new IllegalStateException("KVM lacks capability " + capability);
                }
            }
            vmFd = Ioctl.invoke(kvmFd, Kvm.CREATE_VM, 0L, "KVM_CREATE_VM");
            Ioctl.tryInvoke(vmFd, Kvm.SET_TSS_ADDR, TSS_GPA);
            return new KvmVm(kvmFd, vmFd);
        } catch (RuntimeException e) {
            if (vmFd >= 0) {
                FileIo.closeQuietly(vmFd);
            }
            FileIo.closeQuietly(kvmFd);
            throw e;
        }
    }

    /** @return the VM descriptor */
    public int fd() {
        return vmFd;
    }

    /** @return the /dev/kvm descriptor (system ioctls) */
    int systemFd() {
        return kvmFd;
    }

    /** @return whether KVM_CHECK_EXTENSION reports {@code capability} on this VM */
    public boolean has(final int capability) {
        return Ioctl.tryInvoke(vmFd, Kvm.CHECK_EXTENSION, capability) > 0;
    }

    /** Registers every region of {@code memory} as a memslot, after advising huge pages and pre-faulting it. */
    public void map(final GuestMemory memory) {
        for (GuestMemoryRegion region : memory.regions()) {
            prefault(region.segment());
            setMemorySlot(slots++, region.gpa(), region.sizeBytes(), region.segment().address());
        }
    }

    private static void prefault(final MemorySegment segment) {
        try {
            Mmap.advise(segment, Mmap.MADV_HUGEPAGE);
        } catch (SysException e) {
            // shmem without THP "advise": small pages only, still correct
        }
        try {
            Mmap.advise(segment, (int) MADV_POPULATE_WRITE);
        } catch (SysException e) {
            for (long offset = 0; offset < segment.byteSize(); offset += SMALL_PAGE_BYTES) {
                segment.set(ValueLayout.JAVA_BYTE, offset, segment.get(ValueLayout.JAVA_BYTE, offset));
            }
        }
    }

    private void setMemorySlot(final int slot, final long gpa, final long sizeBytes, final long hva) {
        argument.set(ValueLayout.JAVA_INT, 0, slot);
        argument.set(ValueLayout.JAVA_INT, 4, 0);
        argument.set(ValueLayout.JAVA_LONG, 8, gpa);
        argument.set(ValueLayout.JAVA_LONG, 16, sizeBytes);
        argument.set(ValueLayout.JAVA_LONG, 24, hva);
        Ioctl.invoke(vmFd, Kvm.SET_USER_MEMORY_REGION, argument, "KVM_SET_USER_MEMORY_REGION slot " + slot);
    }

    /** Creates the in-kernel IOAPIC, PIC and local APICs (KVM_CREATE_IRQCHIP); before any vCPU. */
    public void createInterruptController() {
        Ioctl.invoke(vmFd, Kvm.CREATE_IRQCHIP, 0L, "KVM_CREATE_IRQCHIP");
        irqchip = true;
    }

    /** @return whether {@link #createInterruptController()} ran */
    public boolean hasInterruptController() {
        return irqchip;
    }

    private static final int IOEVENTFD_DATAMATCH = 1;
    private static final int IOEVENTFD_PIO = 1 << 1;
    private static final int IOEVENTFD_DEASSIGN = 1 << 2;

    /**
     * Lets KVM signal {@code eventFd} itself for a guest write of {@code lengthBytes} at {@code address} (a GPA,
     * or a port when {@code port}), with no exit to the VMM (KVM_IOEVENTFD).
     *
     * @param match the value the write must carry, or null for any value
     */
    public void assignIoEventFd(final long address, final int lengthBytes, final int eventFd, final boolean port,
                                final Long match) {
        ioEventFd(address, lengthBytes, eventFd, port, match, false);
    }

    /** Undoes {@link #assignIoEventFd} with the same arguments. */
    public void deassignIoEventFd(final long address, final int lengthBytes, final int eventFd, final boolean port,
                                  final Long match) {
        ioEventFd(address, lengthBytes, eventFd, port, match, true);
    }

    private void ioEventFd(final long address, final int lengthBytes, final int eventFd, final boolean port,
                           final Long match, final boolean deassign) {
        argument.fill((byte) 0);
        argument.set(ValueLayout.JAVA_LONG, 0, match == null ? 0 : match);
        argument.set(ValueLayout.JAVA_LONG, 8, address);
        argument.set(ValueLayout.JAVA_INT, 16, lengthBytes);
        argument.set(ValueLayout.JAVA_INT, 20, eventFd);
        argument.set(ValueLayout.JAVA_INT, 24, (match != null ? IOEVENTFD_DATAMATCH : 0) | (port ? IOEVENTFD_PIO : 0)
                | (deassign ? IOEVENTFD_DEASSIGN : 0));
        Ioctl.invoke(vmFd, Kvm.IOEVENTFD, argument, "KVM_IOEVENTFD 0x" + Long.toHexString(address));
    }

    /**
     * Drives GSI {@code gsi} to {@code level} through the in-kernel irqchip (KVM_IRQ_LINE_STATUS, api.rst 4.25):
     * legacy INTx, and a way to check that a GSI is routed at all.
     *
     * @return KVM's status: &gt; 0 delivered, 0 coalesced or masked, -1 when no route of the GSI took the interrupt
     */
    public int irqLine(final int gsi, final boolean level) {
        argument.fill((byte) 0);
        argument.set(ValueLayout.JAVA_INT, 0, gsi);
        argument.set(ValueLayout.JAVA_INT, 4, level ? 1 : 0);
        Ioctl.invoke(vmFd, Kvm.IRQ_LINE_STATUS, argument, "KVM_IRQ_LINE_STATUS gsi " + gsi);
        return argument.get(ValueLayout.JAVA_INT, 0); // struct kvm_irq_level: union { u32 irq; s32 status; }
    }

    private static final int IRQFD_DEASSIGN = 1;

    /** Makes a signal on {@code eventFd} raise GSI {@code gsi} in the in-kernel irqchip (KVM_IRQFD). */
    public void assignIrqFd(final int eventFd, final int gsi) {
        irqFd(eventFd, gsi, 0);
    }

    /** Undoes {@link #assignIrqFd}. */
    public void deassignIrqFd(final int eventFd, final int gsi) {
        irqFd(eventFd, gsi, IRQFD_DEASSIGN);
    }

    private void irqFd(final int eventFd, final int gsi, final int flags) {
        argument.fill((byte) 0);
        argument.set(ValueLayout.JAVA_INT, 0, eventFd);
        argument.set(ValueLayout.JAVA_INT, 4, gsi);
        argument.set(ValueLayout.JAVA_INT, 8, flags);
        Ioctl.invoke(vmFd, Kvm.IRQFD, argument, "KVM_IRQFD gsi " + gsi);
    }

    /** Closes the VM and /dev/kvm descriptors. Idempotent. vCPUs must be closed first. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        FileIo.closeQuietly(vmFd);
        FileIo.closeQuietly(kvmFd);
        arena.close();
    }
}
