package io.vioplane.e1000;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vioplane.e1000.testkit.CapturePort;
import io.vioplane.e1000.testkit.E1000TestDriver;
import io.vioplane.e1000.testkit.Frames;
import io.vioplane.e1000.testkit.ManualClock;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.runtime.CounterSet;
import org.junit.jupiter.api.AfterAll;

import static io.vioplane.e1000.E1000Registers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Coverage-guided fuzzing (Jazzer) of the register file and the transmit path against a guest that writes any
 * register with any value, any descriptor into the transmit ring (addresses biased toward guest memory and its
 * edges), rings the doorbell, and offers frames to receive. Invariants: no exception escapes, the transmit head
 * stays inside a valid ring, no frame longer than the packet buffer leaves, and every call returns.
 *
 * <p>Run normally, the target replays its stored inputs as regression tests; with {@code JAZZER_FUZZ=1} it fuzzes
 * (the build runs it for a short fixed time).
 */
class E1000FuzzTest {
    private static final GuestMemory MEMORY = GuestMemory.ofMemFd(E1000TestDriver.MEMORY_GPA,
        E1000TestDriver.MEMORY_BYTES);
    private static final int[] INTERESTING = {CTRL, EECD, EERD, MDIC, ICR, ICS, IMS, IMC, ITR, RCTL, TCTL, RDBAL,
        RDLEN, RDH, RDT, RDTR, RADV, TDBAL, TDBAH, TDLEN, TDH, TDT, TIDV, TADV, TXDCTL, RXCSUM, VET, MTA, RA, RA + 4,
        VFTA};

    @AfterAll
    static void release() {
        MEMORY.close();
    }

    private static long fuzzedAddress(final FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 4)) {
            case 0 -> E1000TestDriver.TX_BUFFERS_GPA + data.consumeInt(0, 0x10000);
            case 1 -> E1000TestDriver.MEMORY_GPA + E1000TestDriver.MEMORY_BYTES - data.consumeInt(0, 0x20000);
            case 2 -> E1000TestDriver.MEMORY_GPA - data.consumeInt(0, 64);
            default -> data.consumeLong();
        };
    }

    @FuzzTest(maxDuration = "20s")
    void registerFileAndTransmitSurviveAnyGuest(final FuzzedDataProvider data) {
        final CapturePort port = new CapturePort();
        final ManualClock clock = new ManualClock();
        try (E1000Device device = new E1000Device(MEMORY, port, level -> { }, clock, Frames.DEVICE_MAC,
                CounterSet.unpublished(E1000Counter.class))) {
            device.mmioWrite(TDBAL, 4, E1000TestDriver.TX_RING_GPA);
            device.mmioWrite(TDLEN, 4, 16 * 16);
            device.mmioWrite(TCTL, 4, TCTL_EN);
            device.mmioWrite(RDBAL, 4, E1000TestDriver.RX_RING_GPA);
            device.mmioWrite(RDLEN, 4, 16 * 16);
            device.mmioWrite(RCTL, 4, RCTL_EN | RCTL_UPE | RCTL_MPE | RCTL_BAM);
            device.poll(0);
            for (int step = 0; step < 64 && data.remainingBytes() > 0; step++) {
                switch (data.consumeInt(0, 5)) {
                    case 0 -> device.mmioWrite(INTERESTING[data.consumeInt(0, INTERESTING.length - 1)], 4,
                        data.consumeInt() & 0xFFFF_FFFFL);
                    case 1 -> device.mmioWrite(data.consumeInt(0, MMIO_BYTES / 4 - 1) * 4L, 4,
                        data.consumeInt() & 0xFFFF_FFFFL);
                    case 2 -> {
                        final long at = E1000TestDriver.TX_RING_GPA + 16L * data.consumeInt(0, 15);
                        MEMORY.putLong(at, data.consumeBoolean() ? fuzzedAddress(data) : data.consumeLong());
                        MEMORY.putInt(at + 8, data.consumeInt());
                        MEMORY.putInt(at + 12, data.consumeInt());
                    }
                    case 3 -> device.mmioWrite(TDT, 4, data.consumeInt(0, 17));
                    case 4 -> {
                        port.queue(data.consumeBytes(data.consumeInt(0, 2000)));
                        device.poll(4);
                    }
                    default -> {
                        clock.advance(data.consumeLong(0, 10_000_000));
                        device.poll(4);
                        device.mmioRead(data.consumeInt(0, MMIO_BYTES / 4 - 1) * 4L, 4);
                    }
                }
                final int count = device.peek(TDLEN) / 16;
                final long base = ((long) device.peek(TDBAH) << 32) | (device.peek(TDBAL) & 0xFFFF_FFF0L);
                final boolean ringInside = base >= E1000TestDriver.MEMORY_GPA
                    && base + device.peek(TDLEN) <= E1000TestDriver.MEMORY_GPA + E1000TestDriver.MEMORY_BYTES;
                if (count > 0 && ringInside && Integer.compareUnsigned(device.peek(TDT), count) < 0
                        && Integer.compareUnsigned(device.peek(TDH), count) < 0) {
                    device.mmioWrite(TDT, 4, device.peek(TDT));
                    assertTrue(device.peek(TDH) < count, "TDH left the ring");
                }
            }
            for (byte[] frame : port.transmitted()) {
                assertTrue(frame.length <= TransmitPath.MAX_PACKET_BYTES + 4, "frame longer than the buffer");
            }
        }
    }
}
