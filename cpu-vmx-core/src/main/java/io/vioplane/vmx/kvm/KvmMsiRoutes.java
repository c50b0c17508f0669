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
 *     u32 gsi, u32 type (1 = irqchip, 2 = MSI), u32 flags, u32 pad, then
 *       irqchip: u32 irqchip (0 PIC master, 1 PIC slave, 2 IOAPIC), u32 pin
 *       MSI:     u32 address_lo, u32 address_hi, u32 data, u32 pad[5]
 * </pre>
 *
 * The whole table is written on every change (KVM replaces it atomically), so every table starts with KVM's own
 * default routes ({@code virt/kvm/irqchip.c} / {@code arch/x86/kvm/irq_comm.c} kvm_setup_default_irq_routing):
 * GSIs 0-15 to the PIC pin and the IOAPIC pin of the same number, GSIs 16-23 to IOAPIC pins 16-23. Without them,
 * the first MSI route would silently disconnect legacy INTx (KVM_IRQ_LINE, or an irqfd on GSI 0-23) from the
 * in-kernel IOAPIC. A message outside the x86 interrupt window is refused here, not handed to KVM.
 */
public final class KvmMsiRoutes implements AutoCloseable {
    private static final int ENTRY_BYTES = 48;
    private static final int ROUTING_IRQCHIP = 1;
    private static final int ROUTING_MSI = 2;
    private static final int IRQCHIP_PIC_MASTER = 0;
    private static final int IRQCHIP_PIC_SLAVE = 1;
    private static final int IRQCHIP_IOAPIC = 2;
    /** IOAPIC pins of KVM's in-kernel IOAPIC (KVM_IOAPIC_NUM_PINS). */
    public static final int IOAPIC_PINS = 24;
    /** Pins of the two cascaded 8259 PICs. */
    private static final int PIC_PINS = 16;
    /** How many entries KVM's default routing has: PIC and IOAPIC for GSIs 0-15, IOAPIC for 16-23. */
    public static final int DEFAULT_ROUTES = PIC_PINS * 2 + (IOAPIC_PINS - PIC_PINS);
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
        this.table = arena.allocate(8 + (long) (DEFAULT_ROUTES + capacity) * ENTRY_BYTES, 8);
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
        final int count = fill(table, messages);
        Ioctl.invoke(vm.fd(), Kvm.SET_GSI_ROUTING, table, "KVM_SET_GSI_ROUTING " + count + " routes");
    }

    /**
     * Writes a struct kvm_irq_routing to {@code table}: KVM's default irqchip routes for GSIs 0-23, then one MSI
     * route at GSI {@link #FIRST_MSI_GSI} + i for each non-null {@code messages[i]}.
     *
     * @return the number of entries
     */
    static int fill(final MemorySegment table, final MsiMessage[] messages) {
        table.fill((byte) 0);
        int count = 0;
        for (int gsi = 0; gsi < IOAPIC_PINS; gsi++) {
            if (gsi < PIC_PINS) {
                irqchipEntry(table, count++, gsi, gsi < 8 ? IRQCHIP_PIC_MASTER : IRQCHIP_PIC_SLAVE, gsi % 8);
            }
            irqchipEntry(table, count++, gsi, IRQCHIP_IOAPIC, gsi);
        }
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
        return count;
    }

    private static void irqchipEntry(final MemorySegment table, final int index, final int gsi, final int chip,
                                     final int pin) {
        final long entry = 8 + (long) index * ENTRY_BYTES;
        table.set(ValueLayout.JAVA_INT, entry, gsi);
        table.set(ValueLayout.JAVA_INT, entry + 4, ROUTING_IRQCHIP);
        table.set(ValueLayout.JAVA_INT, entry + 16, chip);
        table.set(ValueLayout.JAVA_INT, entry + 20, pin);
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
