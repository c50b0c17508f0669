package io.vioplane.iommu.testkit;

import io.vioplane.iommu.FaultReason;
import io.vioplane.iommu.IommuCounter;
import io.vioplane.iommu.IotlbEntry;
import io.vioplane.iommu.SourceId;
import io.vioplane.iommu.VtdRegisterFile;
import io.vioplane.platform.memory.AccessMode;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static io.vioplane.iommu.testkit.VtdFixture.OUTSIDE_GPA;
import static io.vioplane.iommu.testkit.VtdFixture.irteHigh;
import static io.vioplane.iommu.testkit.VtdFixture.remappable;
import static io.vioplane.iommu.testkit.VtdFixture.remappedIrteLow;

/**
 * The catalogue of hostile guests for the VT-d model: tables, queues, registers and interrupt entries a malicious
 * or broken guest driver can program, each with what the unit must answer: the spec's fault reason, a counted
 * error, or a translation that stays inside guest memory. Each attack drives a device's DMA through
 * {@link io.vioplane.iommu.IommuDmaSpace} or an interrupt through the unit, as a device would.
 */
public final class HostileVtd {
    /** The attacked device. */
    public static final int DEVICE = SourceId.of(0, 3, 0);
    private static final int TOP_LEVEL = 4;

    private HostileVtd() {
    }

    /** What the unit must answer. */
    public sealed interface Outcome {
    }

    /**
     * The spec's fault, recorded in fault recording register 0 and counted.
     *
     * @param reason the fault reason
     */
    public record Fault(FaultReason reason) implements Outcome {
    }

    /**
     * A clear error, counted.
     *
     * @param counter the counter that must move
     */
    public record Counted(IommuCounter counter) implements Outcome {
    }

    /** No fault: the hostile structure is bounded and every access stays inside guest memory. */
    public record Contained() implements Outcome {
    }

    /**
     * One attack.
     *
     * @param name     what the guest does, as a test name
     * @param run      plants the hostile state and makes the device act on it
     * @param expected what the unit must answer
     */
    public record Attack(String name, Consumer<VtdFixture> run, Outcome expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Reads 8 bytes at {@code iova} through the device's DMA space. */
    public static void dma(final VtdFixture vtd, final long iova) {
        vtd.unit.dmaSpace(DEVICE).getLong(iova);
    }

    /** Gives the device 4-level tables in domain 1 mapping iova 0x1000 to gpa 0x5000, translation on. */
    public static long standardDevice(final VtdFixture vtd) {
        final long top = vtd.attach(DEVICE, 1, TOP_LEVEL);
        vtd.map(DEVICE, 0x1000, 0x5000);
        vtd.enableTranslation();
        return top;
    }

    private static void signal(final VtdFixture vtd, final int sourceId, final int handle) {
        vtd.unit.signalInterrupt(sourceId, remappable(handle), io.vioplane.iommu.testkit.NoDelivery.INSTANCE);
    }

    /** @return every attack */
    public static List<Attack> all() {
        final List<Attack> attacks = new ArrayList<>();
        attacks.addAll(tableAttacks());
        attacks.addAll(queueAttacks());
        attacks.addAll(interruptAttacks());
        attacks.addAll(registerAttacks());
        return attacks;
    }

    /** @return attacks through root, context and paging tables */
    public static List<Attack> tableAttacks() {
        return List.of(
                new Attack("rootTableOutsideMemory", vtd -> {
                    standardDevice(vtd);
                    vtd.unit.registers().write(VtdRegisterFile.RTADDR, 8, OUTSIDE_GPA);
                    vtd.command(VtdRegisterFile.GCMD_SRTP, true);
                    vtd.unit.registers().write(VtdRegisterFile.CCMD, 8, 1L << 63 | 1L << 61);
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.ROOT_TABLE_ACCESS_ERROR)),
                new Attack("rootTableAtTheLastPageOfMemory", vtd -> {
                    vtd.unit.registers().write(VtdRegisterFile.RTADDR, 8, VtdFixture.MEMORY_BYTES - 4096);
                    vtd.command(VtdRegisterFile.GCMD_SRTP, true);
                    vtd.command(VtdRegisterFile.GCMD_TE, true);
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.ROOT_ENTRY_NOT_PRESENT)),
                new Attack("contextTableOutsideMemory", vtd -> {
                    vtd.put128(vtd.rootTableGpa, OUTSIDE_GPA | 1, 0);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.CONTEXT_TABLE_ACCESS_ERROR)),
                new Attack("pagingTableOutsideMemory", vtd -> {
                    vtd.put128(vtd.contextEntryGpa(DEVICE), OUTSIDE_GPA | 1, 1 << 8 | 2);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.PAGING_ENTRY_ACCESS_ERROR)),
                new Attack("intermediateEntryPointsOutsideMemory", vtd -> {
                    final long top = standardDevice(vtd);
                    vtd.memory.putLong(top, OUTSIDE_GPA | 3);
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.PAGING_ENTRY_ACCESS_ERROR)),
                new Attack("rootEntryReservedBits", vtd -> {
                    final long context = vtd.contextTable(0);
                    vtd.put128(vtd.rootTableGpa, context | 1 | 1 << 5, 0);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.ROOT_ENTRY_RESERVED)),
                new Attack("rootEntryUpperQuadwordSet", vtd -> {
                    final long context = vtd.contextTable(0);
                    vtd.put128(vtd.rootTableGpa, context | 1, 0x1000 | 1);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.ROOT_ENTRY_RESERVED)),
                new Attack("contextEntryReservedLowBits", vtd -> {
                    vtd.put128(vtd.contextEntryGpa(DEVICE), vtd.allocatePage() | 1 | 1 << 6, 1 << 8 | 2);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.CONTEXT_ENTRY_RESERVED)),
                new Attack("contextEntryReservedHighBits", vtd -> {
                    vtd.put128(vtd.contextEntryGpa(DEVICE), vtd.allocatePage() | 1, 1L << 40 | 1 << 8 | 2);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.CONTEXT_ENTRY_RESERVED)),
                new Attack("contextPointerAboveHostAddressWidth", vtd -> {
                    vtd.put128(vtd.contextEntryGpa(DEVICE), 1L << 50 | 1, 1 << 8 | 2);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.CONTEXT_ENTRY_RESERVED)),
                new Attack("fiveLevelAddressWidth", vtd -> {
                    vtd.put128(vtd.contextEntryGpa(DEVICE), vtd.allocatePage() | 1, 1 << 8 | 3);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.CONTEXT_ENTRY_INVALID)),
                new Attack("deviceTlbTranslationTypeNotOffered", vtd -> {
                    vtd.put128(vtd.contextEntryGpa(DEVICE), vtd.allocatePage() | 1 << 2 | 1, 1 << 8 | 2);
                    vtd.enableTranslation();
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.CONTEXT_ENTRY_INVALID)),
                new Attack("pagingEntrySnoopBitReserved", vtd -> {
                    standardDevice(vtd);
                    final long leaf = vtd.map(DEVICE, 0x1000, 0x5000);
                    vtd.memory.putLong(leaf, 0x5000 | 1 << 11 | 3);
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.PAGING_ENTRY_RESERVED)),
                new Attack("pagingEntryAddressAboveHostWidth", vtd -> {
                    standardDevice(vtd);
                    final long leaf = vtd.map(DEVICE, 0x1000, 0x5000);
                    vtd.memory.putLong(leaf, 1L << 49 | 0x5000 | 3);
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.PAGING_ENTRY_RESERVED)),
                new Attack("largePageBitAtTheTopLevel", vtd -> {
                    final long top = standardDevice(vtd);
                    vtd.memory.putLong(top, vtd.memory.getLong(top) | 1 << 7);
                    dma(vtd, 0x1000);
                }, new Fault(FaultReason.PAGING_ENTRY_RESERVED)),
                new Attack("twoMiBPageWithLowAddressBits", vtd -> {
                    standardDevice(vtd);
                    final long leaf = vtd.map(DEVICE, 0x20_0000L, 0x40_0000L, 21, IotlbEntry.READ);
                    vtd.memory.putLong(leaf, 0x40_1000L | 1 << 7 | 1);
                    dma(vtd, 0x20_0000L);
                }, new Fault(FaultReason.PAGING_ENTRY_RESERVED)),
                new Attack("tableLoopIsBoundedByTheLevelCount", vtd -> {
                    final long top = vtd.attach(DEVICE, 1, TOP_LEVEL);
                    vtd.memory.putLong(top, top | 3);
                    vtd.enableTranslation();
                    dma(vtd, 0);
                    if (vtd.unit.count(IommuCounter.IOTLB_MISSES) != 1) {
                        throw new AssertionError("a looping table cost more than one walk");
                    }
                }, new Contained()),
                new Attack("iovaBeyondMgaw", vtd -> {
                    standardDevice(vtd);
                    dma(vtd, 1L << 48);
                }, new Fault(FaultReason.ADDRESS_BEYOND_MGAW)),
                new Attack("iovaWithTheTopBitSet", vtd -> {
                    standardDevice(vtd);
                    vtd.unit.dmaSpace(DEVICE).translate(Long.MIN_VALUE, 8, AccessMode.READ);
                }, new Fault(FaultReason.ADDRESS_BEYOND_MGAW)),
                new Attack("mappingOutsideGuestMemory", vtd -> {
                    standardDevice(vtd);
                    vtd.map(DEVICE, 0x2000, 1L << 39);
                    dma(vtd, 0x2000);
                }, new Counted(IommuCounter.OUTSIDE_GUEST_MEMORY)),
                new Attack("gigabytePageReachingPastGuestMemory", vtd -> {
                    standardDevice(vtd);
                    vtd.map(DEVICE, 1L << 30, 0, 30, IotlbEntry.READ | IotlbEntry.WRITE);
                    dma(vtd, (1L << 30) + VtdFixture.MEMORY_BYTES);
                }, new Counted(IommuCounter.OUTSIDE_GUEST_MEMORY)),
                new Attack("faultFloodOverflowsTheRecords", vtd -> {
                    standardDevice(vtd);
                    for (int i = 0; i < 1000; i++) {
                        try {
                            dma(vtd, 0x10_0000L + 0x1000L * i);
                        } catch (RuntimeException expected) {
                            // each is a fault; the point is what they leave behind
                        }
                    }
                }, new Counted(IommuCounter.FAULTS_OVERFLOWED)));
    }

    /** @return attacks through the invalidation queue */
    public static List<Attack> queueAttacks() {
        return List.of(
                new Attack("queueTailBeyondTheQueue", vtd -> {
                    vtd.enableQueue(0);
                    vtd.unit.registers().write(VtdRegisterFile.IQT, 8, 300L << 4);
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("unknownDescriptorType", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(0xE, 0);
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("pasidDescriptorInLegacyMode", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(6, 0);
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("zeroDescriptor", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(0, 0);
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("iotlbDescriptorReservedBits", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(2 | 1 << 4 | 1 << 8, 0);
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("iotlbDescriptorReservedGranularity", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(2, 0);
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("iotlbAddressMaskAboveMamv", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(2 | 3 << 4 | 1 << 16, 19);
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("contextDescriptorUpperQuadwordSet", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(1 | 1 << 4, 1);
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("waitStatusAddressOutsideMemory", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(VtdFixture.waitWithStatus(OUTSIDE_GPA, 1, false));
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("waitStatusJustPastTheEndOfMemory", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(VtdFixture.waitWithStatus(VtdFixture.MEMORY_BYTES, 1, false));
                }, new Counted(IommuCounter.QUEUE_ERRORS)),
                new Attack("queueOutsideMemory", vtd -> {
                    vtd.unit.registers().write(VtdRegisterFile.IQA, 8, OUTSIDE_GPA);
                    vtd.command(VtdRegisterFile.GCMD_QIE, true);
                    vtd.unit.registers().write(VtdRegisterFile.IQT, 8, 1 << 4);
                }, new Counted(IommuCounter.QUEUE_ERRORS)));
    }

    /** @return attacks through interrupt remapping */
    public static List<Attack> interruptAttacks() {
        return List.of(
                new Attack("irteIndexPastTheTable", vtd -> {
                    vtd.enableInterruptRemapping(7, false);
                    signal(vtd, DEVICE, 0xFFFF);
                }, new Fault(FaultReason.IR_INDEX_OVER_MAX)),
                new Attack("subhandleCarriesPastTheTable", vtd -> {
                    vtd.enableInterruptRemapping(7, false);
                    vtd.unit.signalInterrupt(DEVICE, remappable(250, 10), NoDelivery.INSTANCE);
                }, new Fault(FaultReason.IR_INDEX_OVER_MAX)),
                new Attack("interruptTableOutsideMemory", vtd -> {
                    vtd.unit.registers().write(VtdRegisterFile.IRTA, 8, OUTSIDE_GPA | 7);
                    vtd.command(VtdRegisterFile.GCMD_SIRTP, true);
                    vtd.command(VtdRegisterFile.GCMD_IRE, true);
                    signal(vtd, DEVICE, 3);
                }, new Fault(FaultReason.IR_TABLE_ACCESS_ERROR)),
                new Attack("forgedSourceId", vtd -> {
                    final long table = vtd.enableInterruptRemapping(7, false);
                    vtd.put128(table, remappedIrteLow(0x40, 0), irteHigh(SourceId.of(0, 9, 0), 0, 1));
                    signal(vtd, DEVICE, 0);
                }, new Fault(FaultReason.IR_SOURCE_ID_INVALID)),
                new Attack("reservedSourceValidationType", vtd -> {
                    final long table = vtd.enableInterruptRemapping(7, false);
                    vtd.put128(table, remappedIrteLow(0x40, 0), irteHigh(DEVICE, 0, 3));
                    signal(vtd, DEVICE, 0);
                }, new Fault(FaultReason.IR_ENTRY_RESERVED)),
                new Attack("postedEntryReservedBits", vtd -> {
                    final long table = vtd.enableInterruptRemapping(7, false);
                    final long[] irte = VtdFixture.postedIrte(0x40, 0x7_0000L, false, 0);
                    vtd.put128(table, irte[0] | 1L << 30, irte[1]);
                    signal(vtd, DEVICE, 0);
                }, new Fault(FaultReason.IR_ENTRY_RESERVED)),
                new Attack("postedDescriptorOutsideMemory", vtd -> {
                    final long table = vtd.enableInterruptRemapping(7, false);
                    final long[] irte = VtdFixture.postedIrte(0x40, OUTSIDE_GPA, false, 0);
                    vtd.put128(table, irte[0], irte[1]);
                    signal(vtd, DEVICE, 0);
                }, new Counted(IommuCounter.POSTED_DESCRIPTOR_ERRORS)));
    }

    /** @return attacks through the register file */
    public static List<Attack> registerAttacks() {
        return List.of(
                new Attack("severalGlobalCommandsAtOnce", vtd -> vtd.unit.registers().write(VtdRegisterFile.GCMD, 4,
                        VtdRegisterFile.GCMD_TE | VtdRegisterFile.GCMD_IRE | VtdRegisterFile.GCMD_QIE),
                        new Counted(IommuCounter.REGISTER_MISUSE)),
                new Attack("misalignedRegisterAccess", vtd -> vtd.unit.registers().write(VtdRegisterFile.RTADDR + 4, 8,
                        -1L), new Counted(IommuCounter.REGISTER_MISUSE)),
                new Attack("registerAccessPastTheFile", vtd -> vtd.unit.registers().write(Integer.MAX_VALUE - 3, 4,
                        -1L), new Counted(IommuCounter.REGISTER_MISUSE)),
                new Attack("disablingTheQueueWithWorkPending", vtd -> {
                    vtd.enableQueue(0);
                    vtd.queue(0xE, 0);
                    vtd.command(VtdRegisterFile.GCMD_QIE, false);
                }, new Counted(IommuCounter.REGISTER_MISUSE)));
    }
}
