package io.vioplane.iommu;

import io.vioplane.platform.irq.MsiMessage;

/**
 * The VT-d remapping unit's registers (VT-d 3.x chapter 11), read and written by offset and size so that an MMIO
 * device can wrap them. 32-bit registers take 4-byte accesses; 64-bit registers take 8-byte accesses or either
 * 4-byte half. Unknown offsets read 0 and ignore writes (counted). All accesses hold the unit's lock.
 *
 * <pre>
 *   0x00 VER      0x08 CAP      0x10 ECAP     0x18 GCMD (wo)  0x1C GSTS     0x20 RTADDR   0x28 CCMD
 *   0x34 FSTS     0x38 FECTL    0x3C FEDATA   0x40 FEADDR     0x44 FEUADDR
 *   0x80 IQH      0x88 IQT      0x90 IQA      0x9C ICS        0xA0 IECTL    0xA4 IEDATA   0xA8 IEADDR  0xAC IEUADDR
 *   0xB8 IRTA     0xF0 IVA      0xF8 IOTLB
 *   0x220 + 16 i  fault recording register i (lo: fault info; hi: F 63, T 62, FR 39..32, SID 15..0)
 * </pre>
 *
 * <p>GCMD follows the spec's one-command-at-a-time protocol (section 11.4.4): software writes GSTS's persistent
 * bits (TE, QIE, IRE, CFI) back with at most one of them changed or one one-shot command (SRTP, SIRTP, SFL, WBF)
 * set. A write that changes several is refused and counted, not half-done.
 *
 * <p>Fault recording (section 7.2.1): faults go to the recording registers in turn (wrapping); FSTS.FRI names the
 * register of the first pending fault, latched when PPF goes from 0 to 1. If the next register still holds an
 * unserviced fault (F = 1), or PFO is already set, the fault is lost and PFO set. A fault event is
 * sent (FEADDR/FEDATA) only when no fault condition (PPF, PFO, IQE) was already pending; with FECTL.IM set it
 * stays pending (IP) until software unmasks it.
 */
public final class VtdRegisterFile {
    /** Version. */
    public static final int VER = 0x00;
    /** Capability. */
    public static final int CAP = 0x08;
    /** Extended capability. */
    public static final int ECAP = 0x10;
    /** Global command (write-only). */
    public static final int GCMD = 0x18;
    /** Global status. */
    public static final int GSTS = 0x1C;
    /** Root table address. */
    public static final int RTADDR = 0x20;
    /** Context command. */
    public static final int CCMD = 0x28;
    /** Fault status. */
    public static final int FSTS = 0x34;
    /** Fault event control. */
    public static final int FECTL = 0x38;
    /** Fault event data. */
    public static final int FEDATA = 0x3C;
    /** Fault event address. */
    public static final int FEADDR = 0x40;
    /** Fault event upper address. */
    public static final int FEUADDR = 0x44;
    /** Invalidation queue head. */
    public static final int IQH = 0x80;
    /** Invalidation queue tail. */
    public static final int IQT = 0x88;
    /** Invalidation queue address. */
    public static final int IQA = 0x90;
    /** Invalidation completion status. */
    public static final int ICS = 0x9C;
    /** Invalidation event control. */
    public static final int IECTL = 0xA0;
    /** Invalidation event data. */
    public static final int IEDATA = 0xA4;
    /** Invalidation event address. */
    public static final int IEADDR = 0xA8;
    /** Invalidation event upper address. */
    public static final int IEUADDR = 0xAC;
    /** Interrupt remapping table address. */
    public static final int IRTA = 0xB8;
    /** Invalidate address (page-selective IOTLB invalidation). */
    public static final int IVA = VtdConfig.IOTLB_REGISTERS_OFFSET;
    /** IOTLB invalidate. */
    public static final int IOTLB = VtdConfig.IOTLB_REGISTERS_OFFSET + 8;
    /** The first fault recording register. */
    public static final int FRCD = VtdConfig.FAULT_RECORD_OFFSET;

    /** GCMD/GSTS: translation enable (TE/TES). */
    public static final int GCMD_TE = 1 << 31;
    /** GCMD/GSTS: set root table pointer (SRTP/RTPS). */
    public static final int GCMD_SRTP = 1 << 30;
    /** GCMD/GSTS: set fault log (SFL/FLS). */
    public static final int GCMD_SFL = 1 << 29;
    /** GCMD/GSTS: write buffer flush (WBF/WBFS). */
    public static final int GCMD_WBF = 1 << 27;
    /** GCMD/GSTS: queued invalidation enable (QIE/QIES). */
    public static final int GCMD_QIE = 1 << 26;
    /** GCMD/GSTS: interrupt remapping enable (IRE/IRES). */
    public static final int GCMD_IRE = 1 << 25;
    /** GCMD/GSTS: set interrupt remap table pointer (SIRTP/IRTPS). */
    public static final int GCMD_SIRTP = 1 << 24;
    /** GCMD/GSTS: compatibility format interrupts (CFI/CFIS). */
    public static final int GCMD_CFI = 1 << 23;

    /** FSTS: primary fault overflow (RW1C). */
    public static final int FSTS_PFO = 1;
    /** FSTS: primary pending fault (RO: some fault register has F = 1). */
    public static final int FSTS_PPF = 1 << 1;
    /** FSTS: invalidation queue error (RW1C). */
    public static final int FSTS_IQE = 1 << 4;
    /** FECTL/IECTL: interrupt mask. */
    public static final int CTL_IM = 1 << 31;
    /** FECTL/IECTL: interrupt pending (RO). */
    public static final int CTL_IP = 1 << 30;
    /** ICS: invalidation wait descriptor complete (RW1C). */
    public static final int ICS_IWC = 1;

    private static final int PERSISTENT_COMMANDS = GCMD_TE | GCMD_QIE | GCMD_IRE | GCMD_CFI;
    private static final int ONE_SHOT_COMMANDS = GCMD_SRTP | GCMD_SFL | GCMD_WBF | GCMD_SIRTP;
    private static final long FRCD_F = 1L << 63;
    private static final long FRCD_T = 1L << 62;

    private final VtdUnit unit;
    private final VtdConfig config;
    private final long addressMask;
    private final long[] faultInfo;
    private final long[] faultHigh;

    private int globalStatus;
    private long rootTableAddress;
    private long contextCommand;
    private int faultStatus;
    private int faultEventControl = CTL_IM;
    private int faultEventData;
    private int faultEventAddress;
    private int faultEventUpperAddress;
    private long queueHead;
    private long queueTail;
    private long queueAddress;
    private int completionStatus;
    private int invalidationEventControl = CTL_IM;
    private int invalidationEventData;
    private int invalidationEventAddress;
    private int invalidationEventUpperAddress;
    private long interruptTableAddress;
    private long invalidateAddress;
    private long iotlbCommand;
    private int nextFaultRecord;
    private int firstPendingFaultRecord;

    VtdRegisterFile(final VtdUnit unit, final VtdConfig config) {
        this.unit = unit;
        this.config = config;
        this.addressMask = config.hostAddressMask() & ~0xFFFL;
        this.faultInfo = new long[config.faultRecordCount()];
        this.faultHigh = new long[config.faultRecordCount()];
    }

    /** @return the size of the register file in bytes (the MMIO window it needs) */
    public int sizeBytes() {
        return config.registerFileBytes();
    }

    /**
     * Reads {@code sizeBytes} (4 or 8) at {@code offset}.
     *
     * @return the value, zero-extended; 0 for unknown offsets and bad sizes (counted)
     */
    public long read(final int offset, final int sizeBytes) {
        synchronized (unit) {
            if (!validAccess(offset, sizeBytes)) {
                return 0;
            }
            if (sizeBytes == 4) {
                return read32(offset) & 0xFFFF_FFFFL;
            }
            return read32(offset) & 0xFFFF_FFFFL | (long) read32(offset + 4) << 32;
        }
    }

    /** Writes the low {@code sizeBytes} (4 or 8) bytes of {@code value} at {@code offset}. */
    public void write(final int offset, final int sizeBytes, final long value) {
        synchronized (unit) {
            if (!validAccess(offset, sizeBytes)) {
                return;
            }
            final int quadOffset = offset & ~7;
            if (isQuadRegister(quadOffset)) {
                final long merged;
                if (sizeBytes == 8) {
                    merged = value;
                } else {
                    final long other = isWriteOneToClear(quadOffset) ? 0 : storedQuad(quadOffset);
                    merged = offset == quadOffset
                            ? other & 0xFFFF_FFFF_0000_0000L | value & 0xFFFF_FFFFL
                            : other & 0xFFFF_FFFFL | value << 32;
                }
                writeQuad(quadOffset, merged);
            } else if (sizeBytes == 8) {
                write32(offset, (int) value);
                write32(offset + 4, (int) (value >>> 32));
            } else {
                write32(offset, (int) value);
            }
        }
    }

    private boolean validAccess(final int offset, final int sizeBytes) {
        if ((sizeBytes == 4 || sizeBytes == 8) && offset >= 0 && offset <= sizeBytes() - sizeBytes
                && (offset & (sizeBytes - 1)) == 0) {
            return true;
        }
        unit.misuse("guest accessed VT-d register offset 0x" + Integer.toHexString(offset) + " with " + sizeBytes
                + " bytes");
        return false;
    }

    private boolean isQuadRegister(final int quadOffset) {
        return switch (quadOffset) {
            case CAP, ECAP, RTADDR, CCMD, IQH, IQT, IQA, IRTA, IVA, IOTLB -> true;
            default -> quadOffset >= FRCD;
        };
    }

    private boolean isWriteOneToClear(final int quadOffset) {
        return quadOffset >= FRCD;
    }

    private long storedQuad(final int quadOffset) {
        return read32(quadOffset) & 0xFFFF_FFFFL | (long) read32(quadOffset + 4) << 32;
    }

    private int read32(final int offset) {
        if (offset >= FRCD) {
            final int record = (offset - FRCD) / 16;
            final long quad = ((offset - FRCD) & 8) == 0 ? faultInfo[record] : faultHigh[record];
            return (int) ((offset & 4) == 0 ? quad : quad >>> 32);
        }
        return switch (offset) {
            case VER -> VtdConfig.VERSION;
            case CAP -> (int) config.capability();
            case CAP + 4 -> (int) (config.capability() >>> 32);
            case ECAP -> (int) config.extendedCapability();
            case ECAP + 4 -> (int) (config.extendedCapability() >>> 32);
            case GSTS -> globalStatus;
            case RTADDR -> (int) rootTableAddress;
            case RTADDR + 4 -> (int) (rootTableAddress >>> 32);
            case CCMD -> (int) contextCommand;
            case CCMD + 4 -> (int) (contextCommand >>> 32);
            case FSTS -> faultStatus();
            case FECTL -> faultEventControl;
            case FEDATA -> faultEventData;
            case FEADDR -> faultEventAddress;
            case FEUADDR -> faultEventUpperAddress;
            case IQH -> (int) queueHead;
            case IQT -> (int) queueTail;
            case IQA -> (int) queueAddress;
            case IQA + 4 -> (int) (queueAddress >>> 32);
            case ICS -> completionStatus;
            case IECTL -> invalidationEventControl;
            case IEDATA -> invalidationEventData;
            case IEADDR -> invalidationEventAddress;
            case IEUADDR -> invalidationEventUpperAddress;
            case IRTA -> (int) interruptTableAddress;
            case IRTA + 4 -> (int) (interruptTableAddress >>> 32);
            case IVA -> (int) invalidateAddress;
            case IVA + 4 -> (int) (invalidateAddress >>> 32);
            case IOTLB -> (int) iotlbCommand;
            case IOTLB + 4 -> (int) (iotlbCommand >>> 32);
            default -> 0;
        };
    }

    private void writeQuad(final int offset, final long value) {
        if (offset >= FRCD) {
            if ((offset - FRCD & 8) != 0 && (value & FRCD_F) != 0) {
                clearFaultRecord((offset - FRCD) / 16);
            }
            return;
        }
        switch (offset) {
            case RTADDR -> rootTableAddress = value & addressMask;
            case CCMD -> contextCommand(value);
            case IQT -> queueTail(value);
            case IQA -> queueAddress = value & (addressMask | 7);
            case IRTA -> interruptTableAddress = value & (addressMask | 1 << 11 | 0xF);
            case IVA -> invalidateAddress = value & (~0xFFFL | 0x7F);
            case IOTLB -> iotlbCommand(value);
            default -> { }
        }
    }

    private void write32(final int offset, final int value) {
        switch (offset) {
            case GCMD -> globalCommand(value);
            case FSTS -> clearFaultStatus(value);
            case FECTL -> faultEventControl(value);
            case FEDATA -> faultEventData = value;
            case FEADDR -> faultEventAddress = value & ~3;
            case FEUADDR -> faultEventUpperAddress = value;
            case ICS -> clearCompletionStatus(value);
            case IECTL -> invalidationEventControl(value);
            case IEDATA -> invalidationEventData = value;
            case IEADDR -> invalidationEventAddress = value & ~3;
            case IEUADDR -> invalidationEventUpperAddress = value;
            case VER, GSTS -> { }
            default -> unit.misuse("guest wrote unknown VT-d register 0x" + Integer.toHexString(offset));
        }
    }

    private void globalCommand(final int value) {
        final int toggled = (value ^ globalStatus) & PERSISTENT_COMMANDS;
        final int oneShot = value & ONE_SHOT_COMMANDS;
        if (Integer.bitCount(toggled | oneShot) > 1) {
            unit.misuse("guest issued several VT-d global commands in one GCMD write: 0x" + Integer.toHexString(value));
            return;
        }
        switch (toggled | oneShot) {
            case GCMD_SRTP -> {
                unit.latchRootTable(rootTableAddress);
                globalStatus |= GCMD_SRTP;
            }
            case GCMD_SIRTP -> {
                unit.latchInterruptTable(interruptTableAddress);
                globalStatus |= GCMD_SIRTP;
            }
            case GCMD_TE -> {
                globalStatus ^= GCMD_TE;
                unit.enableTranslation((globalStatus & GCMD_TE) != 0);
            }
            case GCMD_QIE -> toggleQueuedInvalidation();
            case GCMD_IRE -> {
                globalStatus ^= GCMD_IRE;
                unit.enableInterruptRemapping((globalStatus & GCMD_IRE) != 0);
            }
            case GCMD_CFI -> {
                globalStatus ^= GCMD_CFI;
                unit.allowCompatibilityInterrupts((globalStatus & GCMD_CFI) != 0);
            }
            case GCMD_WBF -> { }
            case GCMD_SFL -> unit.misuse("guest set a fault log, which CAP does not offer");
            default -> { }
        }
    }

    private void toggleQueuedInvalidation() {
        if ((globalStatus & GCMD_QIE) == 0) {
            queueHead = 0;
            globalStatus |= GCMD_QIE;
        } else if (queueHead != queueTail) {
            unit.misuse("guest disabled queued invalidation with descriptors pending");
        } else {
            queueHead = 0;
            globalStatus &= ~GCMD_QIE;
        }
    }

    private void contextCommand(final long value) {
        if (value >= 0) {
            contextCommand = value;
            return;
        }
        final int granularity = (int) (value >>> 61) & 3;
        final boolean done = !queuedInvalidationEnabled() && unit.invalidateContextCache(granularity,
                (int) value & 0xFFFF, (int) (value >>> 16) & 0xFFFF, (int) (value >>> 32) & 3);
        if (!done) {
            unit.misuse("guest issued a bad register-based context invalidation: 0x" + Long.toHexString(value));
        }
        contextCommand = value & ~(1L << 63) & ~(3L << 59) | (done ? (long) granularity << 59 : 0);
    }

    private void iotlbCommand(final long value) {
        if (value >= 0) {
            iotlbCommand = value;
            return;
        }
        final int granularity = (int) (value >>> 60) & 3;
        final boolean done = !queuedInvalidationEnabled() && unit.invalidateIotlb(granularity,
                (int) (value >>> 32) & 0xFFFF, invalidateAddress & ~0xFFFL, (int) invalidateAddress & 0x3F);
        if (!done) {
            unit.misuse("guest issued a bad register-based IOTLB invalidation: 0x" + Long.toHexString(value));
        }
        iotlbCommand = value & ~(1L << 63) & ~(3L << 57) | (done ? (long) granularity << 57 : 0);
    }

    private void queueTail(final long value) {
        queueTail = value & 0x7_FFF0L;
        if (queuedInvalidationEnabled() && (faultStatus & FSTS_IQE) == 0) {
            unit.drainInvalidationQueue();
        }
    }

    boolean queuedInvalidationEnabled() {
        return (globalStatus & GCMD_QIE) != 0;
    }

    long queueBaseGpa() {
        return queueAddress & addressMask;
    }

    /** @return how many 16-byte descriptors the queue holds: 2^(QS + 8) */
    int queueEntries() {
        return 1 << ((int) queueAddress & 7) + 8;
    }

    int queueHeadIndex() {
        return (int) (queueHead >>> 4);
    }

    int queueTailIndex() {
        return (int) (queueTail >>> 4);
    }

    void queueHeadIndex(final int index) {
        queueHead = (long) index << 4;
    }

    private int faultStatus() {
        int ppf = 0;
        for (long high : faultHigh) {
            if ((high & FRCD_F) != 0) {
                ppf = FSTS_PPF;
                break;
            }
        }
        return faultStatus | ppf | firstPendingFaultRecord << 8;
    }

    private void clearFaultStatus(final int value) {
        faultStatus &= ~(value & (FSTS_PFO | FSTS_IQE));
        clearPendingWhenServiced();
        if ((value & FSTS_IQE) != 0 && queuedInvalidationEnabled() && queueHead != queueTail) {
            unit.drainInvalidationQueue();
        }
    }

    private void clearFaultRecord(final int record) {
        faultHigh[record] &= ~FRCD_F;
        clearPendingWhenServiced();
    }

    private void clearPendingWhenServiced() {
        if ((faultStatus() & (FSTS_PFO | FSTS_PPF | FSTS_IQE)) == 0) {
            faultEventControl &= ~CTL_IP;
        }
    }

    private void faultEventControl(final int value) {
        faultEventControl = faultEventControl & CTL_IP | value & CTL_IM;
        if ((faultEventControl & (CTL_IM | CTL_IP)) == CTL_IP) {
            faultEventControl &= ~CTL_IP;
            unit.sendEvent(faultEventMessage());
        }
    }

    private void clearCompletionStatus(final int value) {
        if ((value & ICS_IWC) != 0) {
            completionStatus &= ~ICS_IWC;
            invalidationEventControl &= ~CTL_IP;
        }
    }

    private void invalidationEventControl(final int value) {
        invalidationEventControl = invalidationEventControl & CTL_IP | value & CTL_IM;
        if ((invalidationEventControl & (CTL_IM | CTL_IP)) == CTL_IP) {
            invalidationEventControl &= ~CTL_IP;
            unit.sendEvent(invalidationEventMessage());
        }
    }

    /** @return the fault event MSI that FEADDR/FEUADDR/FEDATA describe */
    private MsiMessage faultEventMessage() {
        return new MsiMessage((long) faultEventUpperAddress << 32 | faultEventAddress & 0xFFFF_FFFFL,
                faultEventData);
    }

    private MsiMessage invalidationEventMessage() {
        return new MsiMessage((long) invalidationEventUpperAddress << 32 | invalidationEventAddress & 0xFFFF_FFFFL,
                invalidationEventData);
    }

    /**
     * Records a primary fault, then signals a fault event if none was pending.
     *
     * @param faultInfo the page address (DMA) or interrupt index << 48 (interrupt remapping)
     * @param read      true for a read request (T = 1)
     * @return true if recorded, false if lost to overflow
     */
    boolean recordFault(final int sourceId, final FaultReason reason, final long faultInfo, final boolean read) {
        final int before = faultStatus();
        if ((before & FSTS_PFO) != 0 || (faultHigh[nextFaultRecord] & FRCD_F) != 0) {
            faultStatus |= FSTS_PFO;
            raiseFaultEvent(before);
            return false;
        }
        if ((before & FSTS_PPF) == 0) {
            firstPendingFaultRecord = nextFaultRecord;
        }
        this.faultInfo[nextFaultRecord] = faultInfo;
        faultHigh[nextFaultRecord] = FRCD_F | (read ? FRCD_T : 0) | (long) reason.code() << 32 | sourceId & 0xFFFF;
        nextFaultRecord = (nextFaultRecord + 1) % faultHigh.length;
        raiseFaultEvent(before);
        return true;
    }

    /** Sets FSTS.IQE (invalidation queue error) and signals a fault event if none was pending. */
    void queueError() {
        final int before = faultStatus();
        faultStatus |= FSTS_IQE;
        raiseFaultEvent(before);
    }

    boolean queueErrorPending() {
        return (faultStatus & FSTS_IQE) != 0;
    }

    /** Sets ICS.IWC; signals the invalidation completion event if IWC was clear. */
    void waitCompleted() {
        if ((completionStatus & ICS_IWC) != 0) {
            return;
        }
        completionStatus |= ICS_IWC;
        if ((invalidationEventControl & CTL_IM) != 0) {
            invalidationEventControl |= CTL_IP;
        } else {
            unit.sendEvent(invalidationEventMessage());
        }
    }

    private void raiseFaultEvent(final int statusBefore) {
        if ((statusBefore & (FSTS_PFO | FSTS_PPF | FSTS_IQE)) != 0) {
            return;
        }
        if ((faultEventControl & CTL_IM) != 0) {
            faultEventControl |= CTL_IP;
        } else {
            unit.sendEvent(faultEventMessage());
        }
    }
}
