package io.vioplane.iommu.testkit;

import io.vioplane.iommu.IotlbEntry;
import io.vioplane.iommu.MsiSink;
import io.vioplane.iommu.SourceId;
import io.vioplane.iommu.VtdConfig;
import io.vioplane.iommu.VtdRegisterFile;
import io.vioplane.iommu.VtdUnit;
import io.vioplane.platform.irq.MsiMessage;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A VT-d unit over 64 MiB of guest memory, with helpers that play the guest driver: they build root, context and
 * paging tables in guest memory, program the registers and queue invalidation descriptors, the way Linux's
 * intel-iommu driver does. Shared by the module's tests and the hostile catalogue.
 */
public final class VtdFixture implements AutoCloseable {
    /** Size of guest memory. */
    public static final long MEMORY_BYTES = 64L << 20;
    /** Where the fixture allocates table pages (data pages are below, from 0 to 1 MiB, and above 32 MiB). */
    public static final long TABLE_AREA_GPA = 1L << 20;
    /** A gpa no guest memory backs. */
    public static final long OUTSIDE_GPA = 1L << 40;

    /** The guest's memory. */
    public final GuestMemory memory;
    /** The unit under test. */
    public final VtdUnit unit;
    /** The fault and invalidation events the unit sent. */
    public final List<MsiMessage> events = new ArrayList<>();
    /** The failure lines the unit logged. */
    public final List<String> logLines = new ArrayList<>();
    /** The root table's gpa. */
    public final long rootTableGpa;

    private final Map<Integer, Long> secondLevelRoots = new HashMap<>();
    private final Map<Integer, Integer> levelsOf = new HashMap<>();
    private long nextTableGpa = TABLE_AREA_GPA;
    private long queueGpa;
    private int queueTail;
    private int queueEntries;

    /** A unit with {@link VtdConfig#standard()}. */
    public VtdFixture() {
        this(VtdConfig.standard());
    }

    /** A unit with {@code config}. */
    public VtdFixture(final VtdConfig config) {
        memory = GuestMemory.ofMemFd(0, MEMORY_BYTES);
        final MsiSink sink = events::add;
        unit = new VtdUnit(memory, config, sink, Counters.inMemory(64), "iommu[test]",
                ErrorLog.printingTo(logLines::add));
        rootTableGpa = allocatePage();
    }

    /** @return a fresh zeroed 4 KiB page in the table area */
    public long allocatePage() {
        final long gpa = nextTableGpa;
        nextTableGpa += 4096;
        if (nextTableGpa > MEMORY_BYTES / 2) {
            throw new IllegalStateException("table area exhausted");
        }
        memory.writeBytes(gpa, new byte[4096]);
        return gpa;
    }

    /** Writes a 16-byte entry. */
    public void put128(final long gpa, final long lo, final long hi) {
        memory.putLong(gpa, lo);
        memory.putLong(gpa + 8, hi);
    }

    /** @return the context table of {@code bus}, creating it and its present root entry if needed */
    public long contextTable(final int bus) {
        final long rootEntryGpa = rootTableGpa + 16L * bus;
        final long lo = memory.getLong(rootEntryGpa);
        if ((lo & 1) != 0) {
            return lo & ~0xFFFL;
        }
        final long table = allocatePage();
        put128(rootEntryGpa, table | 1, 0);
        return table;
    }

    /** @return the gpa of {@code sourceId}'s context entry (creating its context table) */
    public long contextEntryGpa(final int sourceId) {
        return contextTable(SourceId.bus(sourceId)) + 16L * SourceId.devfn(sourceId);
    }

    /**
     * Gives {@code sourceId} a context entry translating through fresh {@code levels}-level tables in
     * {@code domainId}.
     *
     * @return the top paging table's gpa
     */
    public long attach(final int sourceId, final int domainId, final int levels) {
        final long top = allocatePage();
        put128(contextEntryGpa(sourceId), top | 1, (long) domainId << 8 | (levels - 2));
        secondLevelRoots.put(sourceId, top);
        levelsOf.put(sourceId, levels);
        return top;
    }

    /** Makes {@code sourceId} share the tables of {@code existing} (same domain, same tables). */
    public void attachLike(final int sourceId, final int existing) {
        final long entry = contextEntryGpa(existing);
        put128(contextEntryGpa(sourceId), memory.getLong(entry), memory.getLong(entry + 8));
        secondLevelRoots.put(sourceId, secondLevelRoots.get(existing));
        levelsOf.put(sourceId, levelsOf.get(existing));
    }

    /** Gives {@code sourceId} a pass-through context entry (TT = 2) in {@code domainId}. */
    public void passThrough(final int sourceId, final int domainId) {
        put128(contextEntryGpa(sourceId), 2 << 2 | 1, (long) domainId << 8 | 2);
    }

    /**
     * Maps the page of size 2^pageShift at {@code iova} to {@code gpa} in {@code sourceId}'s tables.
     *
     * @param permissions {@link IotlbEntry#READ} | {@link IotlbEntry#WRITE}
     * @return the gpa of the leaf entry written
     */
    public long map(final int sourceId, final long iova, final long gpa, final int pageShift, final int permissions) {
        long table = secondLevelRoots.get(sourceId);
        for (int level = levelsOf.get(sourceId); ; level--) {
            final int shift = 12 + 9 * (level - 1);
            final long entryGpa = table + 8 * ((iova >>> shift) & 0x1FF);
            if (shift == pageShift) {
                memory.putLong(entryGpa, gpa | permissions | (pageShift > 12 ? 1L << 7 : 0));
                return entryGpa;
            }
            final long entry = memory.getLong(entryGpa);
            if ((entry & 3) != 0) {
                table = entry & 0x000F_FFFF_FFFF_F000L;
            } else {
                final long next = allocatePage();
                memory.putLong(entryGpa, next | 3);
                table = next;
            }
        }
    }

    /** Maps a read-write 4 KiB page. */
    public long map(final int sourceId, final long iova, final long gpa) {
        return map(sourceId, iova, gpa, 12, IotlbEntry.READ | IotlbEntry.WRITE);
    }

    /** @return the current GSTS */
    public int status() {
        return (int) unit.registers().read(VtdRegisterFile.GSTS, 4);
    }

    /** Issues one GCMD command the way drivers do: GSTS's persistent bits with {@code command} set or cleared. */
    public void command(final int command, final boolean set) {
        final int persistent = status() & (VtdRegisterFile.GCMD_TE | VtdRegisterFile.GCMD_QIE
                | VtdRegisterFile.GCMD_IRE | VtdRegisterFile.GCMD_CFI);
        unit.registers().write(VtdRegisterFile.GCMD, 4, set ? persistent | command : persistent & ~command);
    }

    /** Programs RTADDR with the fixture's root table, latches it (SRTP) and enables translation (TE). */
    public void enableTranslation() {
        unit.registers().write(VtdRegisterFile.RTADDR, 8, rootTableGpa);
        command(VtdRegisterFile.GCMD_SRTP, true);
        command(VtdRegisterFile.GCMD_TE, true);
    }

    /** Sets up a queue of 2^(qs + 8) descriptors and enables queued invalidation. */
    public void enableQueue(final int qs) {
        queueEntries = 1 << (qs + 8);
        queueGpa = allocatePage();
        for (int i = 1; i < 1 << qs; i++) {
            allocatePage();
        }
        queueTail = 0;
        unit.registers().write(VtdRegisterFile.IQA, 8, queueGpa | qs);
        command(VtdRegisterFile.GCMD_QIE, true);
    }

    /** Writes descriptors at the tail and moves IQT past them (one IQT write for all). */
    public void queue(final long... loHiPairs) {
        for (int i = 0; i < loHiPairs.length; i += 2) {
            put128(queueGpa + 16L * queueTail, loHiPairs[i], loHiPairs[i + 1]);
            queueTail = (queueTail + 1) % queueEntries;
        }
        unit.registers().write(VtdRegisterFile.IQT, 8, (long) queueTail << 4);
    }

    /** @return IQH as a descriptor index */
    public int queueHead() {
        return (int) (unit.registers().read(VtdRegisterFile.IQH, 8) >>> 4);
    }

    /** @return the current FSTS */
    public int faultStatus() {
        return (int) unit.registers().read(VtdRegisterFile.FSTS, 4);
    }

    /** @return the high quadword of fault recording register {@code index} */
    public long faultRecordHigh(final int index) {
        return unit.registers().read(VtdRegisterFile.FRCD + 16 * index + 8, 8);
    }

    /** @return the low quadword (fault info) of fault recording register {@code index} */
    public long faultRecordLow(final int index) {
        return unit.registers().read(VtdRegisterFile.FRCD + 16 * index, 8);
    }

    /** @return the fault reason in fault recording register {@code index} */
    public int faultReasonAt(final int index) {
        return (int) (faultRecordHigh(index) >>> 32) & 0xFF;
    }

    /** Unmasks fault events with FEADDR/FEDATA set to a recognisable message. */
    public void unmaskFaultEvents() {
        unit.registers().write(VtdRegisterFile.FEDATA, 4, 0x4021);
        unit.registers().write(VtdRegisterFile.FEADDR, 4, 0xFEE0_0000L);
        unit.registers().write(VtdRegisterFile.FECTL, 4, 0);
    }

    /** Context-cache invalidation descriptor, global. */
    public static long[] contextGlobal() {
        return new long[] {1 | 1 << 4, 0};
    }

    /** IOTLB invalidation descriptor, global. */
    public static long[] iotlbGlobal() {
        return new long[] {2 | 1 << 4, 0};
    }

    /** IOTLB invalidation descriptor, domain-selective. */
    public static long[] iotlbDomain(final int domainId) {
        return new long[] {2 | 2 << 4 | (long) domainId << 16, 0};
    }

    /** IOTLB invalidation descriptor, page-selective over 2^addressMask pages. */
    public static long[] iotlbPages(final int domainId, final long iova, final int addressMask) {
        return new long[] {2 | 3 << 4 | (long) domainId << 16, iova & ~0xFFFL | addressMask};
    }

    /** Wait descriptor writing {@code statusData} to {@code statusGpa} (SW), with IF if {@code interrupt}. */
    public static long[] waitWithStatus(final long statusGpa, final int statusData, final boolean interrupt) {
        return new long[] {5 | 1 << 5 | (interrupt ? 1 << 4 : 0) | (long) statusData << 32, statusGpa};
    }

    /**
     * Builds an interrupt remapping table of 2^(sizeField + 1) entries (one 4 KiB page holds 256), latches it
     * (SIRTP) and enables interrupt remapping.
     *
     * @param extendedDestinations IRTA.EIME (x2APIC destinations)
     * @return the table's gpa
     */
    public long enableInterruptRemapping(final int sizeField, final boolean extendedDestinations) {
        final long table = allocatePage();
        for (int page = 1; page < (2 << sizeField) / 256; page++) {
            allocatePage();
        }
        unit.registers().write(VtdRegisterFile.IRTA, 8, table | (extendedDestinations ? 1 << 11 : 0) | sizeField);
        command(VtdRegisterFile.GCMD_SIRTP, true);
        command(VtdRegisterFile.GCMD_IRE, true);
        return table;
    }

    /** @return a remapped-format IRTE's low quadword: present, fixed, physical, edge, xAPIC destination */
    public static long remappedIrteLow(final int vector, final int apicId) {
        return 1 | (long) vector << 16 | (long) apicId << 40;
    }

    /** @return an IRTE's high quadword with source validation {@code svt}, qualifier {@code sq} and {@code sid} */
    public static long irteHigh(final int sourceId, final int sq, final int svt) {
        return sourceId & 0xFFFF | (long) sq << 16 | (long) svt << 18;
    }

    /** @return a posted-format IRTE: present, IM = 1, {@code vector}, descriptor at {@code descriptorGpa} */
    public static long[] postedIrte(final int vector, final long descriptorGpa, final boolean urgent,
                                    final long high) {
        final long lo = 1 | 1 << 15 | (urgent ? 1 << 14 : 0) | (long) vector << 16 | (descriptorGpa >>> 6) << 38;
        return new long[] {lo, high | (descriptorGpa >>> 32) << 32};
    }

    /** @return a remappable-format MSI for {@code handle} without subhandle */
    public static MsiMessage remappable(final int handle) {
        return new MsiMessage(MsiMessage.INTERRUPT_WINDOW_BASE | (long) (handle & 0x7FFF) << 5 | 1 << 4
                | (long) (handle >>> 15 & 1) << 2, 0);
    }

    /** @return a remappable-format MSI with SHV set: the entry is {@code handle + subhandle} */
    public static MsiMessage remappable(final int handle, final int data) {
        final MsiMessage base = remappable(handle);
        return new MsiMessage(base.address() | 1 << 3, data);
    }

    @Override
    public void close() {
        unit.close();
        memory.close();
    }
}
