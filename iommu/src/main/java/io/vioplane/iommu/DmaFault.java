package io.vioplane.iommu;

import java.io.Serial;

/**
 * A request the VT-d unit refused (VT-d 3.x section 7.1): what the walk found and for whom. Carries no stack
 * trace: a hostile guest provokes these at will, and each is a counted, recorded fault, not a bug.
 */
public final class DmaFault extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final transient FaultReason reason;
    private final int sourceId;
    private final long address;

    /**
     * @param reason   the spec's fault reason
     * @param sourceId the requester (bus << 8 | devfn)
     * @param address  the iova (DMA) or interrupt index (IR) that faulted
     */
    public DmaFault(final FaultReason reason, final int sourceId, final long address) {
        super(reason.description() + " (reason 0x" + Integer.toHexString(reason.code()) + ", source "
                + SourceId.format(sourceId) + ", address 0x" + Long.toHexString(address) + ")", null, false, false);
        this.reason = reason;
        this.sourceId = sourceId;
        this.address = address;
    }

    /** @return the spec's fault reason */
    public FaultReason reason() {
        return reason;
    }

    /** @return the requester's source ID */
    public int sourceId() {
        return sourceId;
    }

    /** @return the faulting iova or interrupt index */
    public long address() {
        return address;
    }
}
