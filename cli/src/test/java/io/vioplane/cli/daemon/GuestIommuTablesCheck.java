package io.vioplane.cli.daemon;

import io.vioplane.iommu.ContextEntry;
import io.vioplane.iommu.DmaFault;
import io.vioplane.iommu.FaultReason;
import io.vioplane.iommu.IotlbEntry;
import io.vioplane.iommu.SourceId;
import io.vioplane.iommu.TranslationWalker;
import io.vioplane.iommu.VtdConfig;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.DmaSpace;
import io.vioplane.vhostuser.backend.IotlbListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A differential check of vioplane's VT-d walker against a real guest: every IOTLB UPDATE QEMU sends the daemon
 * (QEMU's own translation of an iova, through its intel-iommu model, of the tables the Linux guest wrote) is compared,
 * as it is applied, with what {@link TranslationWalker} finds walking the same guest's root, context and second-level
 * tables (VT-d 3.x sections 3.4.2, 9.1, 9.3, 9.8) for the device's source ID: the same guest-physical address for
 * every byte, and permissions the walker finds within those QEMU sent. The root table is the one the guest last
 * latched, read from QEMU's {@code vtd_reg_dmar_root} trace event.
 *
 * <p>Permissions cannot be compared for equality: QEMU 7.2 answers a vhost miss through
 * {@code address_space_get_iotlb_entry} (softmmu/physmem.c), which checks the access the miss asked for against the
 * guest's tables but then reports every translation as read-write ("IOTLBs are for DMAs, and DMA only allows on
 * RAMs"). A buffer Linux mapped DMA_TO_DEVICE (read-only in its tables) therefore reaches the back-end writable;
 * the check counts these widened updates.
 *
 * <p>Compared at the UPDATE, on the data-plane thread, because the guest unmaps strictly ({@code iommu.strict=1}) and
 * reuses iovas at once. One race is legitimate: Linux clears a page's entry first and invalidates it afterwards, and
 * an UPDATE QEMU translated just before the clear (a second miss for a page already served, answered from QEMU's own
 * IOTLB or its walk) can reach the daemon in between. A page the walker finds not present is therefore an unmap in
 * progress, not a disagreement, when the UPDATE repeats a translation the walker verified earlier and that was not
 * invalidated since, and provided the INVALIDATE that ends the unmap follows: the test asserts that every such page
 * was invalidated afterwards. Any other fault, or any other gpa or permission, is a disagreement.
 */
final class GuestIommuTablesCheck implements IotlbListener {
    /** QEMU 7.2's {@code vtd_reg_dmar_root} trace line. */
    static final Pattern ROOT_TABLE_TRACE = Pattern.compile("vtd_reg_dmar_root addr 0x([0-9a-f]+) scalable (\\d)");
    private static final int MAX_DISAGREEMENTS = 20;
    private static final int MAX_SAMPLES = 8;
    private static final long PAGE_MASK = 0xFFF;

    private final Path qemuTrace;
    private final int sourceId;
    private final VtdConfig config = VtdConfig.qemuDeviceIotlb();
    private final List<String> disagreements = Collections.synchronizedList(new ArrayList<>());
    private final List<String> samples = Collections.synchronizedList(new ArrayList<>());
    private final Set<Long> unmapsInProgress = Collections.synchronizedSet(new HashSet<>());
    private final Map<Long, Long> verifiedGpaByPage = new HashMap<>();
    private volatile long unmapsConfirmed;
    private volatile long notPresentPages;
    private long rootTableGpa = -1;
    private volatile long usedRootTableGpa = -1;
    private volatile long updates;
    private volatile long pages;
    private volatile long largePages;
    private volatile long readOnly;
    private volatile long writeOnly;
    private volatile long readWrite;
    private volatile long guestReadOnlyPages;
    private volatile long guestWriteOnlyPages;
    private volatile long widenedPages;
    private volatile String context = "none read";

    /**
     * @param qemuTrace QEMU's log file ({@code -D}) with the {@code vtd_reg_dmar_root} event traced
     * @param sourceId  the device's bus/device/function as the guest and QEMU number it
     */
    GuestIommuTablesCheck(final Path qemuTrace, final int sourceId) {
        this.qemuTrace = qemuTrace;
        this.sourceId = sourceId;
    }

    /** @return the root table of the last {@code vtd_reg_dmar_root} event in {@code trace}, or -1 if none */
    static long lastRootTable(final Path trace) {
        final String text;
        try {
            text = Files.exists(trace) ? Files.readString(trace) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        final Matcher matcher = ROOT_TABLE_TRACE.matcher(text);
        long root = -1;
        while (matcher.find()) {
            if (!"0".equals(matcher.group(2))) {
                throw new IllegalStateException("the guest programmed a scalable-mode root table, which the walker does"
                        + " not model: " + matcher.group());
            }
            root = Long.parseUnsignedLong(matcher.group(1), 16);
        }
        return root;
    }

    @Override
    public void updated(final long iova, final long sizeBytes, final int permissions, final long[] gpaPieces,
                        final DmaSpace guestMemory) {
        updates++;
        if (rootTableGpa < 0) {
            rootTableGpa = lastRootTable(qemuTrace);
            usedRootTableGpa = rootTableGpa;
            if (rootTableGpa < 0) {
                disagree("UPDATE of iova 0x" + Long.toHexString(iova) + " before the guest set any root table");
                return;
            }
        }
        final TranslationWalker walker = new TranslationWalker(guestMemory, config);
        final ContextEntry entry;
        try {
            entry = walker.readContext(rootTableGpa, sourceId);
        } catch (DmaFault e) {
            disagree("UPDATE of iova 0x" + Long.toHexString(iova) + ": the walker finds no context for "
                    + SourceId.format(sourceId) + ": " + e.getMessage());
            return;
        }
        context = "domain " + entry.domainId() + ", " + entry.levels() + " levels, second-level root gpa 0x"
                + Long.toHexString(entry.secondLevelRootGpa()) + (entry.passThrough() ? ", pass-through" : "");
        switch (permissions) {
            case 1 -> readOnly++;
            case 2 -> writeOnly++;
            default -> readWrite++;
        }
        long pieceIova = iova;
        for (int i = 0; i < gpaPieces.length; i += 2) {
            final long pieceBytes = gpaPieces[i];
            final long pieceGpa = gpaPieces[i + 1];
            long cursor = pieceIova;
            while (Long.compareUnsigned(cursor - pieceIova, pieceBytes) < 0) {
                final IotlbEntry walked;
                try {
                    walked = walker.walk(entry, cursor, AccessMode.READ);
                } catch (DmaFault e) {
                    final long page = cursor & ~PAGE_MASK;
                    final Long verified = verifiedGpaByPage.get(page);
                    if (e.reason() == FaultReason.READ_DENIED && verified != null
                            && verified == pieceGpa + (page - pieceIova)) {
                        unmapsInProgress.add(page);
                        notPresentPages++;
                        cursor = page + PAGE_MASK + 1;
                        continue;
                    }
                    disagree("QEMU mapped iova 0x" + Long.toHexString(cursor) + " to gpa 0x"
                            + Long.toHexString(pieceGpa + (cursor - pieceIova)) + " perm " + permissions
                            + "; the walker faults: " + e.getMessage());
                    return;
                }
                pages++;
                if (walked.pageShift() > 12) {
                    largePages++;
                }
                final long expectedGpa = pieceGpa + (cursor - pieceIova);
                if (walked.gpaOf(cursor) != expectedGpa || (walked.permissions() & ~permissions) != 0) {
                    disagree("iova 0x" + Long.toHexString(cursor) + ": QEMU sent gpa 0x" + Long.toHexString(expectedGpa)
                            + " perm " + permissions + ", the walker finds gpa 0x"
                            + Long.toHexString(walked.gpaOf(cursor)) + " perm " + walked.permissions());
                    return;
                }
                verifiedGpaByPage.put(cursor & ~PAGE_MASK, pieceGpa + ((cursor & ~PAGE_MASK) - pieceIova));
                if (walked.permissions() == IotlbEntry.READ) {
                    guestReadOnlyPages++;
                } else if (walked.permissions() == IotlbEntry.WRITE) {
                    guestWriteOnlyPages++;
                }
                if (walked.permissions() != permissions) {
                    widenedPages++;
                }
                if (samples.size() < MAX_SAMPLES) {
                    samples.add("iova 0x" + Long.toHexString(cursor) + " -> gpa 0x" + Long.toHexString(expectedGpa)
                            + " perm " + permissions + " (" + (1L << walked.pageShift()) + "-byte page)");
                }
                cursor = walked.iovaBase() + (1L << walked.pageShift());
            }
            pieceIova += pieceBytes;
        }
    }

    @Override
    public void invalidated(final long iova, final long sizeBytes) {
        synchronized (unmapsInProgress) {
            final long last = iova + (sizeBytes - 1);
            final LongPredicate touched = page -> Long.compareUnsigned(page, last) <= 0
                    && Long.compareUnsigned(iova, page + PAGE_MASK) <= 0;
            if (unmapsInProgress.removeIf(touched::test)) {
                unmapsConfirmed++;
            }
            verifiedGpaByPage.keySet().removeIf(touched::test);
        }
    }

    /** @return pages found not present at their UPDATE whose INVALIDATE has not come (yet) */
    Set<Long> unmapsInProgress() {
        synchronized (unmapsInProgress) {
            return Set.copyOf(unmapsInProgress);
        }
    }

    private void disagree(final String what) {
        if (disagreements.size() < MAX_DISAGREEMENTS) {
            disagreements.add(what);
        }
    }

    /** @return what disagreed (at most {@value #MAX_DISAGREEMENTS}) */
    List<String> disagreements() {
        synchronized (disagreements) {
            return List.copyOf(disagreements);
        }
    }

    /** @return updates seen */
    long updates() {
        return updates;
    }

    /** @return pages compared */
    long pagesCompared() {
        return pages;
    }

    /** @return pages found not present at their UPDATE (unmaps in progress) */
    long notPresentPages() {
        return notPresentPages;
    }

    /** @return pages QEMU sent with more permissions than the guest's tables give */
    long widenedPages() {
        return widenedPages;
    }

    /** @return the root table the walks started from, or -1 */
    long rootTableGpa() {
        return usedRootTableGpa;
    }

    /** @return a one-paragraph summary for the test's output */
    String summary() {
        synchronized (samples) {
            return "root table gpa 0x" + Long.toHexString(usedRootTableGpa) + ", device " + SourceId.format(sourceId)
                    + " (" + context + "): " + updates + " UPDATEs (" + readOnly + " read-only, " + writeOnly
                    + " write-only, " + readWrite + " read-write), " + pages + " pages walked (" + largePages
                    + " large; read-only in the guest's tables " + guestReadOnlyPages + ", write-only "
                    + guestWriteOnlyPages + "; sent with wider permissions than the tables give " + widenedPages + "), "
                    + notPresentPages + " pages not present at their UPDATE (unmaps in progress), " + unmapsConfirmed
                    + " INVALIDATEs ended them, "
                    + unmapsInProgress.size() + " such pages not invalidated yet; " + disagreements.size()
                    + " disagreements; first: " + String.join("; ", samples);
        }
    }
}
