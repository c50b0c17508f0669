package io.vioplane.vmx.machine;

import io.vioplane.iommu.MsiSink;
import io.vioplane.iommu.VtdConfig;
import io.vioplane.iommu.VtdRegisterFile;
import io.vioplane.iommu.VtdUnit;
import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;

/**
 * A machine's VT-d remapping unit ({@link VtdUnit}) and the MMIO window its register file is reached through: the
 * register set is memory-mapped at a 4 KiB-aligned base (VT-d 3.x section 11.1, "Register Location") which the
 * DMAR table's DRHD structure reports to the guest (section 8.3). The machine places it at {@link #BASE_GPA},
 * where QEMU's q35 {@code intel-iommu} and most Intel chipsets put their unit, so guest code written for either
 * finds it in the same place.
 *
 * <pre>
 *   BASE_GPA + 0x000 .. + registerFileBytes   VtdRegisterFile (VER, CAP, ECAP, GCMD, GSTS, ..., fault records)
 *   the rest of the window                    reserved: reads 0, writes ignored (counted by the unit as misuse)
 * </pre>
 *
 * <p>Section 11.2 allows only 32-bit and 64-bit naturally aligned accesses to the registers; any other access
 * (1 or 2 bytes, unaligned) is counted as {@link VtdMmioCounter#BAD_ACCESS}, ignored, and reads all ones, like
 * every other device on the bus. Nothing a guest does here throws out of the bus.
 *
 * <p>Interrupts: the unit's fault event (section 7.3) and invalidation completion event (section 6.5.2.8) are
 * MSIs. The machine has no interrupt controller path yet (its guests run with interrupts off and the KVM backend
 * is created only when the run starts), so they are counted as {@link VtdMmioCounter#EVENTS_UNDELIVERED} and the
 * last one is kept ({@link #lastEvent()}); a guest polls FSTS as a driver without interrupts does.
 */
public final class VtdMmioDevice implements BusDevice, AutoCloseable {
    /** Where the machine places the register window (QEMU q35's {@code Q35_HOST_BRIDGE_IOMMU_ADDR}). */
    public static final long BASE_GPA = 0xFED9_0000L;
    private static final long PAGE_BYTES = 4096;

    private final VtdUnit unit;
    private final VtdRegisterFile registers;
    private final CounterSet<VtdMmioCounter> counters;
    private final int registerPagesLog2;
    private volatile MsiMessage lastEvent;

    /**
     * @param memory      guest memory: the unit's tables and the DMA it translates live there
     * @param config      what the unit supports
     * @param counters    where the unit's and the window's counters are published
     * @param machineName names the machine in counter labels ("vm[NAME] iommu ...")
     * @param log         where the unit reports guest misuse
     */
    public VtdMmioDevice(final GuestMemory memory, final VtdConfig config, final Counters counters,
                         final String machineName, final ErrorLog log) {
        final String prefix = "vm[" + machineName + "] iommu";
        this.counters = new CounterSet<>(counters, VtdMmioCounter.class, prefix, CounterType.DEVICE);
        final MsiSink events = this::eventSent;
        VtdUnit created = null;
        try {
            created = new VtdUnit(memory, config, events, counters, prefix, log);
        } finally {
            if (created == null) {
                this.counters.close();
            }
        }
        this.unit = created;
        this.registers = unit.registers();
        this.registerPagesLog2 = pagesLog2(registers.sizeBytes());
    }

    /** @return log2 of the 4 KiB pages the register set needs, rounded up to a power of two (DRHD's Size field) */
    static int pagesLog2(final int registerBytes) {
        final long pages = (registerBytes + PAGE_BYTES - 1) / PAGE_BYTES;
        return 64 - Long.numberOfLeadingZeros(pages - 1);
    }

    /** @return the unit, for devices to take their {@link VtdUnit#dmaSpace} from */
    public VtdUnit unit() {
        return unit;
    }

    /** @return the register window's base address */
    public long baseGpa() {
        return BASE_GPA;
    }

    /** @return the window's size: 2^{@link #registerPagesLog2()} pages of 4 KiB */
    public long windowBytes() {
        return PAGE_BYTES << registerPagesLog2;
    }

    /** @return the DRHD Size field (VT-d 3.x section 8.3): the window is 2^N 4 KiB pages */
    public int registerPagesLog2() {
        return registerPagesLog2;
    }

    /** @return how many times {@code kind} happened */
    public long count(final VtdMmioCounter kind) {
        return counters.get(kind);
    }

    /** @return the last fault or invalidation event the unit sent, or null */
    public MsiMessage lastEvent() {
        return lastEvent;
    }

    @Override
    public long read(final long offset, final int sizeBytes) {
        if (!allowed(offset, sizeBytes)) {
            counters.increment(VtdMmioCounter.BAD_ACCESS);
            return -1L;
        }
        return registers.read((int) offset, sizeBytes);
    }

    @Override
    public void write(final long offset, final int sizeBytes, final long value) {
        if (!allowed(offset, sizeBytes)) {
            counters.increment(VtdMmioCounter.BAD_ACCESS);
            return;
        }
        registers.write((int) offset, sizeBytes, value);
    }

    /** Section 11.2: 4 or 8 bytes, naturally aligned, inside the window. */
    private boolean allowed(final long offset, final int sizeBytes) {
        return (sizeBytes == 4 || sizeBytes == 8) && (offset & (sizeBytes - 1)) == 0 && offset >= 0
                && offset <= windowBytes() - sizeBytes;
    }

    /** Called with the unit's lock held (so one writer at a time): count and keep, never block. */
    private void eventSent(final MsiMessage message) {
        lastEvent = message;
        counters.increment(VtdMmioCounter.EVENTS_UNDELIVERED);
    }

    /** Closes the unit's counters and the window's; their final values stay readable. Idempotent. */
    @Override
    public void close() {
        unit.close();
        counters.close();
    }
}
