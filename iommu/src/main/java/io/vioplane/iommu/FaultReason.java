package io.vioplane.iommu;

import io.vioplane.platform.runtime.CounterKind;

/**
 * The fault reasons a VT-d unit records (VT-d 3.x section 7.1.3, table "Fault Reason Encodings" for
 * legacy-mode DMA remapping, and section 7.1.4 for interrupt remapping). The code is what lands in bits 32..39
 * of a fault recording register's high quadword. Each reason is also a counter ({@code "faults: ..."}).
 */
public enum FaultReason implements CounterKind {
    /** The root entry for the request's bus has P = 0. */
    ROOT_ENTRY_NOT_PRESENT(0x01, "root entry not present"),
    /** The context entry for the request's device/function has P = 0. */
    CONTEXT_ENTRY_NOT_PRESENT(0x02, "context entry not present"),
    /** A present context entry is programmed wrongly: translation type or address width not supported. */
    CONTEXT_ENTRY_INVALID(0x03, "context entry invalid (translation type or address width)"),
    /** The input address is at or above 2^min(MGAW, AGAW). */
    ADDRESS_BEYOND_MGAW(0x04, "input address beyond the guest address width"),
    /** A write through a translation without write permission (or not present). */
    WRITE_DENIED(0x05, "write denied by second-level permissions"),
    /** A read through a translation without read permission (or not present). */
    READ_DENIED(0x06, "read denied by second-level permissions"),
    /** Reading a second-level paging entry failed: its table is outside memory. */
    PAGING_ENTRY_ACCESS_ERROR(0x07, "second-level paging entry outside memory"),
    /** Reading the root entry failed: the root table is outside memory. */
    ROOT_TABLE_ACCESS_ERROR(0x08, "root table outside memory"),
    /** Reading the context entry failed: the context table is outside memory. */
    CONTEXT_TABLE_ACCESS_ERROR(0x09, "context table outside memory"),
    /** A present root entry has reserved bits set. */
    ROOT_ENTRY_RESERVED(0x0A, "reserved bits set in root entry"),
    /** A present context entry has reserved bits set. */
    CONTEXT_ENTRY_RESERVED(0x0B, "reserved bits set in context entry"),
    /** A present second-level paging entry has reserved bits set. */
    PAGING_ENTRY_RESERVED(0x0C, "reserved bits set in second-level paging entry"),
    /** Reserved fields set in an interrupt request (remappable-format data bits 31..16 with SHV). */
    IR_REQUEST_RESERVED(0x20, "reserved bits set in interrupt request"),
    /** The interrupt handle indexes past the end of the interrupt remapping table. */
    IR_INDEX_OVER_MAX(0x21, "interrupt index beyond the remapping table"),
    /** The IRTE the handle selects has P = 0. */
    IR_ENTRY_NOT_PRESENT(0x22, "IRTE not present"),
    /** Reading the IRTE failed: the interrupt remapping table is outside memory. */
    IR_TABLE_ACCESS_ERROR(0x23, "interrupt remapping table outside memory"),
    /** A present IRTE has reserved bits set. */
    IR_ENTRY_RESERVED(0x24, "reserved bits set in IRTE"),
    /** A compatibility-format interrupt arrived while remapping is on and CFI is off. */
    IR_COMPATIBILITY_BLOCKED(0x25, "compatibility-format interrupt blocked"),
    /** The requester's source ID fails the IRTE's SVT/SQ/SID check. */
    IR_SOURCE_ID_INVALID(0x26, "source ID does not match the IRTE");

    private final int code;
    private final String description;

    FaultReason(final int code, final String description) {
        this.code = code;
        this.description = description;
    }

    /** @return the spec's encoding of this reason */
    public int code() {
        return code;
    }

    /** @return what went wrong, for messages */
    public String description() {
        return description;
    }

    @Override
    public String label() {
        return "faults: " + description;
    }

    /** @return true for an interrupt-remapping fault (recorded with T = 0 and the handle as index) */
    public boolean interruptRemapping() {
        return code >= 0x20;
    }
}
