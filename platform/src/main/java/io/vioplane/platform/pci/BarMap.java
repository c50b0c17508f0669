package io.vioplane.platform.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the guest placed the BARs of one address space (memory, or I/O ports), and whether each placement is allowed:
 * a BAR decodes only when it lies wholly inside the window and overlaps no other decoding BAR of that space; BARs of
 * the other space are not this map's business. A BAR placed over RAM, ECAM, another device or
 * another BAR is refused (it does not decode, as if memory decoding were off for it) and counted; the guest sees
 * its config space as written, the VMM never maps two things at one address.
 *
 * <p>Used as the {@link PciFunction.BarListener} of every function; {@link #find} is the MMIO dispatch. Both run
 * on the vCPU thread only: no locking.
 */
public final class BarMap implements PciFunction.BarListener {
    /** A BAR that decodes. */
    public record Placement(PciFunction function, int bar, long gpa, long sizeBytes) {
        long end() {
            return gpa + sizeBytes;
        }
    }

    private final long windowGpa;
    private final long windowBytes;
    private final boolean ioSpace;
    private final List<Placement> placements = new ArrayList<>();
    private long refusedOutsideWindow;
    private long refusedOverlap;

    /** A map of memory BARs in the window {@code [windowGpa, windowGpa + windowBytes)}. */
    public BarMap(final long windowGpa, final long windowBytes) {
        this(windowGpa, windowBytes, false);
    }

    /**
     * @param ioSpace true for a map of I/O BARs (the window is then a range of ports), false for memory BARs
     */
    public BarMap(final long windowStart, final long windowBytes, final boolean ioSpace) {
        this.windowGpa = windowStart;
        this.windowBytes = windowBytes;
        this.ioSpace = ioSpace;
    }

    @Override
    public void barChanged(final PciFunction function, final int bar, final long gpa,
                                        final long sizeBytes, final boolean decoding) {
        placements.removeIf(p -> p.function() == function && p.bar() == bar);
        if (!decoding || function.barIsIo(bar) != ioSpace) {
            return;
        }
        if (gpa < windowGpa || sizeBytes > windowBytes || gpa - windowGpa > windowBytes - sizeBytes) {
            refusedOutsideWindow++;
            return;
        }
        for (Placement other : placements) {
            if (gpa < other.end() && other.gpa() < gpa + sizeBytes) {
                refusedOverlap++;
                return;
            }
        }
        placements.add(new Placement(function, bar, gpa, sizeBytes));
    }

    /** @return the decoding BAR that contains {@code gpa}, or null */
    public Placement find(final long gpa) {
        for (Placement placement : placements) {
            if (gpa >= placement.gpa() && gpa < placement.end()) {
                return placement;
            }
        }
        return null;
    }

    /** @return the BARs that decode now */
    public List<Placement> placements() {
        return List.copyOf(placements);
    }

    /** @return placements refused because they left the window (over RAM, ECAM, other devices) */
    public long refusedOutsideWindow() {
        return refusedOutsideWindow;
    }

    /** @return placements refused because they overlapped another BAR */
    public long refusedOverlap() {
        return refusedOverlap;
    }
}
