package io.vioplane.vring;

import io.vioplane.vring.testkit.RingFixture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The driver side and the device side of the same ring agree, for split and packed layouts with every
 * combination of EVENT_IDX, INDIRECT_DESC, IN_ORDER and IN_ORDER batching: 70,000 buffers (past the 16-bit index wrap) of
 * random shapes, indices wrapping, data checked byte for byte both ways.
 */
class RingInteropTest {
    private static final int QUEUE_SIZE = 16;
    private static final int ROUNDS = 70_000;

    static Stream<Arguments> combinations() {
        final List<Arguments> all = new ArrayList<>();
        for (boolean packed : new boolean[] {false, true}) {
            for (boolean eventIdx : new boolean[] {false, true}) {
                for (boolean indirect : new boolean[] {false, true}) {
                    for (boolean inOrder : new boolean[] {false, true}) {
                        for (boolean collapse : inOrder ? new boolean[] {false, true} : new boolean[] {false}) {
                            all.add(Arguments.of(packed, eventIdx, indirect, inOrder, collapse));
                        }
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1} indirect={2} inOrder={3} batchedUsed={4}")
    @MethodSource("combinations")
    void driverAndDeviceExchangeBuffersIntact(final boolean packed, final boolean eventIdx, final boolean indirect,
                                               final boolean inOrder, final boolean collapse) {
        long features = 0;
        if (packed) {
            features |= VirtioFeature.bit(VirtioFeature.RING_PACKED);
        }
        if (eventIdx) {
            features |= VirtioFeature.bit(VirtioFeature.EVENT_IDX);
        }
        if (indirect) {
            features |= VirtioFeature.bit(VirtioFeature.INDIRECT_DESC);
        }
        if (inOrder) {
            features |= VirtioFeature.bit(VirtioFeature.IN_ORDER);
        }
        final Random random = new Random(Long.hashCode(features) * 31L + (collapse ? 1 : 0));
        try (RingFixture fixture = RingFixture.create(QUEUE_SIZE, features); Arena arena = Arena.ofConfined()) {
            final DriverQueue driver = fixture.driver(indirect);
            final DeviceQueue device = fixture.device();
            device.setCollapseInOrder(collapse);
            final DescriptorChain[] chains = DescriptorChain.batch(QUEUE_SIZE, 64);
            final ArrayDeque<Integer> freeTokens = new ArrayDeque<>();
            for (int t = 0; t < QUEUE_SIZE; t++) {
                freeTokens.add(t);
            }
            final int[] expectedWritable = new int[QUEUE_SIZE];
            final long[][] writableGpas = new long[QUEUE_SIZE][3];
            final int[][] writableLengths = new int[QUEUE_SIZE][3];
            final int[] writableSegments = new int[QUEUE_SIZE];
            final int[] expectedWritten = new int[QUEUE_SIZE];
            final int[] reapedTokens = new int[QUEUE_SIZE];
            final int[] reapedLengths = new int[QUEUE_SIZE];
            final MemorySegment scratch = arena.allocate(8192);
            final long[] gpas = new long[5];
            final int[] lengths = new int[5];
            long delivered = 0;
            int round = 0;
            while (round < ROUNDS) {
                final int adds = 1 + random.nextInt(5);
                for (int a = 0; a < adds && !freeTokens.isEmpty(); a++) {
                    final int token = freeTokens.peek();
                    final int readable = 1 + random.nextInt(3);
                    final int writable = random.nextInt(3);
                    int writableBytes = 0;
                    for (int s = 0; s < readable + writable; s++) {
                        gpas[s] = RingFixture.buffer(token * 8 + s);
                        lengths[s] = 1 + random.nextInt(96);
                        if (s < readable) {
                            fill(fixture, gpas[s], lengths[s], token, s);
                        } else {
                            writableBytes += lengths[s];
                        }
                    }
                    if (!driver.add(gpas, lengths, readable, writable, token)) {
                        break;
                    }
                    freeTokens.poll();
                    expectedWritable[token] = writableBytes;
                    writableSegments[token] = writable;
                    for (int w = 0; w < writable; w++) {
                        writableGpas[token][w] = gpas[readable + w];
                        writableLengths[token][w] = lengths[readable + w];
                    }
                    round++;
                }
                driver.publish();
                driver.needsKick();

                final int popped = device.popBatch(chains, QUEUE_SIZE);
                assertNull(device.violation(), "an honest driver never breaks the queue");
                final List<Integer> order = new ArrayList<>();
                for (int c = 0; c < popped; c++) {
                    final DescriptorChain chain = chains[c];
                    final int token = tokenOf(fixture, chain);
                    checkReadable(chain, token, scratch);
                    assertEquals(expectedWritable[token], chain.writableBytes(), "writable bytes of buffer " + token);
                    final int written = collapse ? (int) chain.writableBytes()
                            : (chain.writableBytes() == 0 ? 0 : random.nextInt((int) chain.writableBytes() + 1));
                    for (int i = 0; i < written; i++) {
                        scratch.set(ValueLayout.JAVA_BYTE, i, (byte) (token ^ i));
                    }
                    assertEquals(written, chain.copyToWritable(0, scratch, 0, written));
                    expectedWritten[token] = written;
                    order.add(c);
                }
                if (!inOrder) {
                    Collections.shuffle(order, random);
                }
                for (int c : order) {
                    device.addUsed(chains[c], expectedWritten[tokenOf(fixture, chains[c])]);
                }
                device.publishUsed();
                device.needsInterrupt();

                int reaped;
                while ((reaped = driver.reap(reapedTokens, reapedLengths, QUEUE_SIZE)) > 0) {
                    for (int r = 0; r < reaped; r++) {
                        final int token = reapedTokens[r];
                        assertEquals(expectedWritten[token], reapedLengths[r], "length of buffer " + token);
                        final byte[] back = readBack(fixture, writableGpas[token], writableLengths[token],
                                writableSegments[token], expectedWritten[token]);
                        assertEquals(expectedWritten[token], back.length);
                        for (int i = 0; i < back.length; i++) {
                            assertEquals((byte) (token ^ i), back[i]);
                        }
                        freeTokens.add(token);
                        delivered++;
                    }
                }
                assertNull(driver.deviceFault(), "an honest device never faults the driver");
            }
            assertTrue(delivered >= ROUNDS - QUEUE_SIZE, "delivered " + delivered);
            assertEquals(0, device.inFlight());
        }
    }

    private static void fill(final RingFixture fixture, final long gpa, final int length, final int token, final int segment) {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (token * 7 + segment * 13 + i);
        }
        fixture.memory().writeBytes(gpa, bytes);
    }

    private static int tokenOf(final RingFixture fixture, final DescriptorChain chain) {
        return (int) ((chain.segmentGpa(0) - RingFixture.BUFFER_GPA) / 4096 / 8);
    }

    private static void checkReadable(final DescriptorChain chain, final int token, final MemorySegment scratch) {
        long offset = 0;
        for (int s = 0; s < chain.readableCount(); s++) {
            final long length = chain.segmentLength(s);
            assertEquals(length, chain.copyFromReadable(offset, scratch, 0, length));
            for (int i = 0; i < length; i++) {
                assertEquals((byte) (token * 7 + s * 13 + i), scratch.get(ValueLayout.JAVA_BYTE, i),
                        "readable byte " + i + " of segment " + s + " of buffer " + token);
            }
            offset += length;
        }
        assertEquals(0, chain.copyFromReadable(chain.readableBytes(), scratch, 0, 1), "the readable run ends");
    }

    private static byte[] readBack(final RingFixture fixture, final long[] gpas, final int[] lengths, final int segments,
                                   final int written) {
        final byte[] out = new byte[written];
        int done = 0;
        for (int s = 0; s < segments && done < written; s++) {
            final int chunk = Math.min(lengths[s], written - done);
            System.arraycopy(fixture.memory().readBytes(gpas[s], chunk), 0, out, done, chunk);
            done += chunk;
        }
        return out;
    }
}
