package io.vioplane.vring;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vioplane.platform.memory.AccessMode;
import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vring.split.SplitRing;
import io.vioplane.vring.packed.PackedRing;
import org.junit.jupiter.api.AfterAll;

import java.lang.foreign.MemorySegment;

import static io.vioplane.vring.testkit.RingFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Coverage-guided fuzzing (Jazzer) of both sides of a ring against an adversary that writes arbitrary bytes
 * where the other side's structures live.
 *
 * <p>Device side: random descriptors (addresses biased toward the buffer area, the indirect pool and the
 * edges of memory), random indirect tables, random available index and entries, any queue size and any
 * combination of ring features. Invariants: nothing escapes but the typed outcome, every segment a popped
 * chain hands out lies wholly inside guest memory, readable segments precede writable ones, totals stay within
 * 2^32 bytes, and the walk ends.
 *
 * <p>Driver side: after an honest driver places buffers, random bytes land in the used ring (split) or the
 * descriptor ring (packed); reaping must report only buffers in flight with lengths within their writable
 * part, or stop with a device fault.
 *
 * <p>Run normally, each target replays its stored inputs (src/test/resources/.../RingFuzzTestInputs) as
 * regression tests; with {@code JAZZER_FUZZ=1} it fuzzes (the CI runs each target for a fixed time).
 */
class RingFuzzTest {
    private static final GuestMemory MEMORY = GuestMemory.ofMemFd(BASE_GPA, MEMORY_BYTES);
    private static final long INDIRECT_POOL_BYTES = 0x10000;

    @AfterAll
    static void release() {
        MEMORY.close();
    }

    private static long fuzzedAddress(final FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 5)) {
            case 0 -> buffer(data.consumeInt(0, 16)) + data.consumeInt(0, 4096);
            case 1 -> INDIRECT_POOL_GPA + 16L * data.consumeInt(0, 64);
            case 2 -> BASE_GPA + MEMORY_BYTES - data.consumeInt(0, 8192);
            case 3 -> BASE_GPA - data.consumeInt(0, 64);
            case 4 -> -data.consumeLong(0, 1 << 20);
            default -> data.consumeLong();
        };
    }

    private static int fuzzedLength(final FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 3)) {
            case 0 -> data.consumeInt(0, 2048);
            case 1 -> 16 * data.consumeInt(0, 40);
            case 2 -> (int) MEMORY_BYTES;
            default -> data.consumeInt();
        };
    }

    private static int fuzzedFlags(final FuzzedDataProvider data) {
        return data.consumeBoolean() ? data.consumeInt(0, 7) | (data.consumeBoolean() ? PackedRing.F_AVAIL : 0)
                : data.consumeInt(0, 0xFFFF);
    }

    private static void writeDescriptor(final long at, final long addr, final int len, final int third, final int flags,
                                         final boolean packed) {
        MEMORY.putLong(at, addr);
        MEMORY.putInt(at + 8, len);
        if (packed) {
            MEMORY.putShort(at + PackedRing.DESC_ID, (short) third);
            MEMORY.putShort(at + PackedRing.DESC_FLAGS, (short) flags);
        } else {
            MEMORY.putShort(at + SplitRing.DESC_FLAGS, (short) flags);
            MEMORY.putShort(at + SplitRing.DESC_NEXT, (short) third);
        }
    }

    @FuzzTest(maxDuration = "45s")
    void deviceSideSurvivesAnyRing(final FuzzedDataProvider data) {
        final boolean packed = data.consumeBoolean();
        final int size = packed ? data.consumeInt(1, 64) : 1 << data.consumeInt(0, 6);
        long features = 0;
        for (int bit : new int[] {VirtioFeature.INDIRECT_DESC, VirtioFeature.EVENT_IDX, VirtioFeature.IN_ORDER}) {
            if (data.consumeBoolean()) {
                features |= VirtioFeature.bit(bit);
            }
        }
        if (packed) {
            features |= VirtioFeature.bit(VirtioFeature.RING_PACKED);
        }
        final int maxSegments = data.consumeInt(1, 64);
        MEMORY.translate(DESC_GPA, 16L * 64, AccessMode.WRITE).fill((byte) 0);
        MEMORY.translate(DRIVER_GPA, 4096, AccessMode.WRITE).fill((byte) 0);
        MEMORY.translate(DEVICE_GPA, 4096, AccessMode.WRITE).fill((byte) 0);
        MEMORY.translate(INDIRECT_POOL_GPA, INDIRECT_POOL_BYTES, AccessMode.WRITE).fill((byte) 0);
        for (int i = 0; i < size; i++) {
            writeDescriptor(DESC_GPA + 16L * i, fuzzedAddress(data), fuzzedLength(data),
                    data.consumeInt(0, size + 2), fuzzedFlags(data), packed);
        }
        final int indirectEntries = data.consumeInt(0, 64);
        for (int i = 0; i < indirectEntries; i++) {
            writeDescriptor(INDIRECT_POOL_GPA + 16L * i, fuzzedAddress(data), fuzzedLength(data),
                    data.consumeInt(0, 70), fuzzedFlags(data), packed);
        }
        if (!packed) {
            final int entries = data.consumeInt(0, size);
            for (int i = 0; i < entries; i++) {
                MEMORY.putShort(DRIVER_GPA + SplitRing.AVAIL_RING + 2L * i, (short) data.consumeInt(0, size + 1));
            }
            MEMORY.putShort(DRIVER_GPA + SplitRing.AVAIL_IDX,
                    (short) (data.consumeBoolean() ? entries : data.consumeInt(0, 0xFFFF)));
        }
        final QueueConfig config = new QueueConfig(size, DESC_GPA, DRIVER_GPA, DEVICE_GPA, features);
        final DeviceQueue queue = VirtQueues.device(config, MEMORY);
        final DescriptorChain chain = new DescriptorChain(maxSegments);
        int popped = 0;
        while (popped <= 2 * size && queue.pop(chain)) {
            popped++;
            checkChain(chain, maxSegments, size);
            queue.addUsed(chain, (int) Math.min(chain.writableBytes(), data.consumeInt(0, 4096)));
            if (data.consumeBoolean()) {
                queue.publishUsed();
                queue.needsInterrupt();
            }
        }
        assertTrue(popped <= 2 * size, "a ring of " + size + " cannot yield more than 2*size chains without new buffers");
        queue.publishUsed();
        queue.enableNotifications();
    }

    private static void checkChain(final DescriptorChain chain, final int maxSegments, final int size) {
        assertTrue(chain.headId() >= 0 && chain.headId() < size, "id " + chain.headId());
        assertTrue(chain.segmentCount() <= maxSegments);
        long readable = 0;
        long writable = 0;
        for (int s = 0; s < chain.segmentCount(); s++) {
            final long length = chain.segmentLength(s);
            assertTrue(length > 0);
            final MemorySegment translated = MEMORY.translate(chain.segmentGpa(s), length, AccessMode.READ);
            assertEquals(translated.address(), chain.segmentBase(s).address() + chain.segmentOffset(s),
                    "the resolved segment is the guest buffer");
            assertEquals(s >= chain.readableCount(), chain.segmentWritable(s));
            if (chain.segmentWritable(s)) {
                writable += length;
            } else {
                readable += length;
            }
        }
        assertEquals(readable, chain.readableBytes());
        assertEquals(writable, chain.writableBytes());
        assertTrue(readable + writable <= DescriptorChain.MAX_TOTAL_BYTES);
    }

    @FuzzTest(maxDuration = "30s")
    void driverSideSurvivesAnyDevice(final FuzzedDataProvider data) {
        final boolean packed = data.consumeBoolean();
        final int size = 1 << data.consumeInt(0, 5);
        long features = packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0;
        if (data.consumeBoolean()) {
            features |= VirtioFeature.bit(VirtioFeature.IN_ORDER);
        }
        final QueueConfig config = new QueueConfig(size, DESC_GPA, DRIVER_GPA, DEVICE_GPA, features);
        final DriverQueue driver = VirtQueues.driver(config, MEMORY, INDIRECT_POOL_GPA, 4, false);
        final int buffers = data.consumeInt(0, size);
        final int[] writableOf = new int[size];
        for (int i = 0; i < buffers; i++) {
            final int writable = data.consumeInt(0, 4096);
            if (!driver.add(new long[] {buffer(i), buffer(i + 32)}, new int[] {64, writable}, 1, 1, i)) {
                break;
            }
            writableOf[i] = writable;
        }
        driver.publish();
        final int garbage = data.consumeInt(0, 256);
        final long area = packed ? DESC_GPA : DEVICE_GPA;
        for (int i = 0; i < garbage; i++) {
            MEMORY.putByte(area + data.consumeInt(0, packed ? 16 * size - 1 : 4 + 8 * size + 1), data.consumeByte());
        }
        final int[] tokens = new int[size];
        final int[] lengths = new int[size];
        final boolean[] seen = new boolean[size];
        for (int round = 0; round < 3; round++) {
            final int reaped = driver.reap(tokens, lengths, size);
            for (int r = 0; r < reaped; r++) {
                assertTrue(tokens[r] >= 0 && tokens[r] < buffers, "token " + tokens[r]);
                assertFalse(seen[tokens[r]], "buffer " + tokens[r] + " reaped twice");
                seen[tokens[r]] = true;
                assertTrue(Integer.toUnsignedLong(lengths[r]) <= writableOf[tokens[r]], "length within the buffer");
            }
        }
    }
}
