package io.vioplane.vmx.kvm;

import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.Ioctl;
import io.vioplane.platform.sys.Kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * MSI delivery through the in-kernel irqchip ({@code Documentation/virt/kvm/api.rst}, 4.52 KVM_SET_GSI_ROUTING,
 * 4.75 KVM_IRQFD): each route is a GSI whose entry holds an MSI address and data, and an eventfd bound to that GSI;
 * a device raises the interrupt by signalling the eventfd, with no VMM call on the data path.
 *
 * <pre>
 *   struct kvm_irq_routing: u32 nr, u32 flags, then nr x kvm_irq_routing_entry (48 bytes):
 *     u32 gsi, u32 type (2 = MSI), u32 flags, u32 pad, u32 address_lo, u32 address_hi, u32 data, u32 pad[5]
 * </pre>
 *
 * The whole table is written on every change (KVM replaces it atomically). A message outside the x86 interrupt
 * window is refused here, not handed to KVM.
 */
public final class KvmMsiRoutes implements AutoCloseable {
    private static final int ENTRY_BYTES = 48;
    private static final int ROUTING_MSI = 2;
    /** GSIs below this belong to the IOAPIC pins. */
    public static final int FIRST_MSI_GSI = 24;

    private final KvmVm vm;
    private final MsiMessage[] messages;
    private final EventFd[] eventFds;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment table;

    /** Up to {@code capacity} MSI routes on {@code vm}, which must have an in-kernel irqchip. */
    public KvmMsiRoutes(final KvmVm vm, final int capacity) {
        if (!vm.hasInterruptController()) {
            throw new IllegalStateException("MSI routes need the in-kernel irqchip (KVM_CREATE_IRQCHIP)");
        }
        this.vm = vm;
        this.messages = new MsiMessage[capacity];
        this.eventFds = new EventFd[capacity];
        this.table = arena.allocate(8 + (long) capacity * ENTRY_BYTES, 8);
    }

    /**
     * Routes {@code route} to {@code message} and returns the eventfd that raises it; replaces an earlier message.
     *
     * @throws IllegalArgumentException for a message outside 0xFEExxxxx (the guest programmed garbage)
     */
    public EventFd route(final int route, final MsiMessage message) {
        final String refusal = refusal(message);
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
        messages[route] = message;
        writeTable();
        if (eventFds[route] == null) {
            eventFds[route] = EventFd.create(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK);
            vm.assignIrqFd(eventFds[route].fd(), FIRST_MSI_GSI + route);
        }
        return eventFds[route];
    }

    /**
     * @return why {@code message} cannot be delivered (an address outside 0xFEExxxxx, the remappable format without
     *         an IOMMU, or a vector below 16, which x86 reserves for exceptions: SDM Vol. 3, 11.5.2 and 6.2), or null
     */
    public static String refusal(final MsiMessage message) {
        if (!message.isInterruptWindow()) {
            return String.format("MSI address 0x%x is outside the interrupt window 0xFEExxxxx", message.address());
        }
        if (message.remappable()) {
            return "MSI in remappable format but no interrupt remapping is present";
        }
        final int vector = message.data() & 0xFF;
        if (vector < 16) {
            return "MSI vector " + vector + " is reserved (vectors 0-15 are exceptions)";
        }
        return null;
    }

    private void writeTable() {
        table.fill((byte) 0);
        int count = 0;
        for (int route = 0; route < messages.length; route++) {
            final MsiMessage message = messages[route];
            if (message == null) {
                continue;
            }
            final long entry = 8 + (long) count * ENTRY_BYTES;
            table.set(ValueLayout.JAVA_INT, entry, FIRST_MSI_GSI + route);
            table.set(ValueLayout.JAVA_INT, entry + 4, ROUTING_MSI);
            table.set(ValueLayout.JAVA_INT, entry + 16, (int) message.address());
            table.set(ValueLayout.JAVA_INT, entry + 20, (int) (message.address() >>> 32));
            table.set(ValueLayout.JAVA_INT, entry + 24, message.data());
            count++;
        }
        table.set(ValueLayout.JAVA_INT, 0, count);
        Ioctl.invoke(vm.fd(), Kvm.SET_GSI_ROUTING, table, "KVM_SET_GSI_ROUTING " + count + " routes");
    }

    /** Unbinds and closes every eventfd. */
    @Override
    public void close() {
        for (int route = 0; route < eventFds.length; route++) {
            if (eventFds[route] != null) {
                vm.deassignIrqFd(eventFds[route].fd(), FIRST_MSI_GSI + route);
                eventFds[route].close();
            }
        }
        Arrays.fill(eventFds, null);
        arena.close();
    }
}
