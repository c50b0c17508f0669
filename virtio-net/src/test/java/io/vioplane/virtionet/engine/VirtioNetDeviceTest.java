package io.vioplane.virtionet.engine;

import io.vioplane.platform.memory.LittleEndian;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.virtionet.VirtioNetHeader;
import io.vioplane.virtionet.port.DiscardPort;
import io.vioplane.virtionet.port.EchoPort;
import io.vioplane.virtionet.testkit.TestNetGuest;
import io.vioplane.vring.RingViolation;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The virtio-net device driven by a test guest through real split and packed rings in guest memory.
 */
class VirtioNetDeviceTest {
    private static final byte[] PEER_MAC = {0x02, 0, 0, 0, 0, 0x09};
    private static final int[] TOKENS = new int[256];
    private static final int[] LENGTHS = new int[256];

    private static long features(final boolean packed, final boolean mergeable, final long more) {
        return (packed ? VirtioFeature.bit(VirtioFeature.RING_PACKED) : 0)
                | (mergeable ? VirtioFeature.bit(VirtioNetFeature.MRG_RXBUF) : 0) | more;
    }

    @ParameterizedTest(name = "packed={0} mergeable={1} headerInOwnDescriptor={2}")
    @CsvSource({"false,false,false", "false,true,true", "true,false,true", "true,true,false"})
    void echoReturnsEveryFrameWithAddressesSwapped(final boolean packed, final boolean mergeable, final boolean split) {
        try (EchoPort echo = new EchoPort(1, 256);
             TestNetGuest guest = new TestNetGuest(features(packed, mergeable, 0), echo, 256)) {
            guest.postReceiveBuffers(0, 64, 2048);
            final List<byte[]> sent = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                final byte[] frame = TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 50 + i * 30, i);
                sent.add(frame);
                guest.transmit(null, frame, split);
            }
            guest.pollUntilIdle(10);
            assertEquals(40, guest.txQueue().reap(TOKENS, LENGTHS, 256), "every transmit buffer came back");
            final int received = guest.rxQueue().reap(TOKENS, LENGTHS, 256);
            assertEquals(40, received);
            for (int i = 0; i < received; i++) {
                final byte[] frame = sent.get(i);
                assertEquals(VirtioNetHeader.BYTES + frame.length, LENGTHS[i]);
                final byte[] buffer = guest.receiveBuffer(TOKENS[i], LENGTHS[i]);
                assertEquals(1, ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN).getShort(VirtioNetHeader.NUM_BUFFERS),
                        "num_buffers is 1 when the frame fits one buffer");
                final byte[] back = Arrays.copyOfRange(buffer, VirtioNetHeader.BYTES, buffer.length);
                assertArrayEquals(Arrays.copyOfRange(frame, 0, 6), Arrays.copyOfRange(back, 6, 12), "source is the old destination");
                assertArrayEquals(Arrays.copyOfRange(frame, 6, 12), Arrays.copyOfRange(back, 0, 6), "destination is the old source");
                assertArrayEquals(Arrays.copyOfRange(frame, 12, frame.length), Arrays.copyOfRange(back, 12, back.length));
            }
            final NetQueueCounters txCounters = guest.device().queueCounters(1);
            assertEquals(40, txCounters.packets());
            assertEquals(40, guest.device().queueCounters(0).packets());
            assertTrue(guest.interrupts() > 0);
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void mergeableReceiveSpreadsALargeFrameOverSeveralBuffers(final boolean packed) {
        try (EchoPort echo = new EchoPort(1, 16);
             TestNetGuest guest = new TestNetGuest(features(packed, true, 0), echo, 64)) {
            guest.postReceiveBuffers(0, 8, 1000);
            final byte[] frame = TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 2900, 3);
            guest.transmit(null, frame, true);
            guest.pollUntilIdle(10);
            final int received = guest.rxQueue().reap(TOKENS, LENGTHS, 256);
            assertEquals(3, received, "12 + 2914 bytes in 1000-byte buffers take three");
            final byte[] first = guest.receiveBuffer(TOKENS[0], LENGTHS[0]);
            assertEquals(3, ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getShort(VirtioNetHeader.NUM_BUFFERS));
            assertEquals(1000, LENGTHS[0]);
            assertEquals(1000, LENGTHS[1]);
            assertEquals(12 + frame.length - 2000, LENGTHS[2]);
            final byte[] joined = new byte[12 + frame.length];
            int at = 0;
            for (int i = 0; i < 3; i++) {
                System.arraycopy(guest.receiveBuffer(TOKENS[i], LENGTHS[i]), 0, joined, at, LENGTHS[i]);
                at += LENGTHS[i];
            }
            assertArrayEquals(Arrays.copyOfRange(frame, 12, frame.length), Arrays.copyOfRange(joined, 24, joined.length));
        }
    }

    @Test
    void aFrameWaitsForReceiveBuffersInsteadOfBeingLost() {
        try (EchoPort echo = new EchoPort(1, 16);
             TestNetGuest guest = new TestNetGuest(features(false, true, 0), echo, 64)) {
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 3000, 1), false);
            guest.postReceiveBuffers(0, 2, 1000);
            guest.pollUntilIdle(10);
            assertEquals(0, guest.rxQueue().reap(TOKENS, LENGTHS, 256), "two buffers cannot hold 3026 bytes: wait");
            assertTrue(echo.hasPending(0));
            guest.postReceiveBuffers(2, 2, 1000);
            guest.pollUntilIdle(10);
            assertEquals(4, guest.rxQueue().reap(TOKENS, LENGTHS, 256), "the frame arrived once there was room");
            assertFalse(echo.hasPending(0));
        }
    }

    @ParameterizedTest(name = "packed={0} eventIdx={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void asksForNoReceiveKicksWhileBusyAndForOneWhenAFrameWaitsForBuffers(final boolean packed, final boolean eventIdx) {
        final long more = eventIdx ? VirtioFeature.bit(VirtioFeature.EVENT_IDX) : 0;
        try (EchoPort echo = new EchoPort(1, 16);
             TestNetGuest guest = new TestNetGuest(features(packed, true, more), echo, 64)) {
            guest.device().poll();
            guest.postReceiveBuffers(0, 1, 1024);
            guest.rxQueue().needsKick();
            guest.postReceiveBuffers(1, 1, 1024);
            assertFalse(guest.rxQueue().needsKick(), "a polling device does not want a kick for every receive buffer");
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 3000, 1), false);
            guest.pollUntilIdle(10);
            assertTrue(echo.hasPending(0), "12 + 3014 bytes do not fit two 1024-byte buffers: the frame waits");
            assertTrue(guest.device().readyToPark(), "nothing to do until the guest adds buffers");
            guest.postReceiveBuffers(2, 1, 1024);
            assertTrue(guest.rxQueue().needsKick(), "a device waiting for receive buffers wants the kick");
            guest.pollUntilIdle(10);
            assertFalse(echo.hasPending(0));
        }
    }

    @Test
    void aFrameTooLargeForNonMergeableBuffersIsDroppedAndTheBufferKept() {
        try (EchoPort echo = new EchoPort(1, 16);
             TestNetGuest guest = new TestNetGuest(features(false, false, 0), echo, 64)) {
            guest.postReceiveBuffers(0, 1, 512);
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 1000, 1), false);
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 100, 2), false);
            guest.pollUntilIdle(10);
            assertEquals(1, guest.device().queueCounters(0).bufferTooSmall());
            assertEquals(1, guest.rxQueue().reap(TOKENS, LENGTHS, 256), "the small frame used the buffer");
            assertEquals(12 + 114, LENGTHS[0]);
        }
    }

    @Test
    void dropsAndCountsMalformedTransmitFramesAndReturnsTheirBuffers() {
        final DiscardPort discard = new DiscardPort();
        try (TestNetGuest guest = new TestNetGuest(features(false, false, 0), discard, 64)) {
            guest.transmit(null, new byte[10], false);
            final byte[] checksumWithoutFeature = new byte[12];
            checksumWithoutFeature[0] = VirtioNetHeader.F_NEEDS_CSUM;
            guest.transmit(checksumWithoutFeature, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 100, 0), false);
            final byte[] gsoWithoutFeature = new byte[12];
            gsoWithoutFeature[1] = VirtioNetHeader.GSO_TCPV4;
            gsoWithoutFeature[4] = (byte) 0xB4;
            gsoWithoutFeature[5] = 0x05;
            guest.transmit(gsoWithoutFeature, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 100, 0), false);
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 100, 0), false);
            guest.pollUntilIdle(10);
            assertEquals(4, guest.txQueue().reap(TOKENS, LENGTHS, 256), "every buffer is returned, good or bad");
            assertEquals(3, guest.device().queueCounters(1).malformedHeader());
            assertEquals(1, discard.frames(), "only the well-formed frame reached the port");
            assertNull(guest.device().queue(1).violation(), "malformed frames do not break the ring");
        }
    }

    @Test
    void clearsAndCountsDataValidClaimedByAGuest() {
        try (EchoPort echo = new EchoPort(1, 16);
             TestNetGuest guest = new TestNetGuest(features(false, false, 0), echo, 64)) {
            guest.postReceiveBuffers(0, 4, 2048);
            final byte[] claimsValid = new byte[12];
            claimsValid[0] = (byte) (VirtioNetHeader.F_DATA_VALID | VirtioNetHeader.F_RSC_INFO);
            guest.transmit(claimsValid, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 100, 0), false);
            guest.pollUntilIdle(10);
            assertEquals(1, guest.rxQueue().reap(TOKENS, LENGTHS, 256), "the frame is forwarded, not dropped");
            assertEquals(0, guest.receiveBuffer(TOKENS[0], LENGTHS[0])[0], "device-only flags never travel on");
            assertEquals(1, guest.device().queueCounters(1).deviceOnlyFlagsCleared());
        }
    }

    @Test
    void completesAChecksumForAGuestThatCannotReceivePartialChecksums() {
        try (EchoPort echo = new EchoPort(1, 16);
             TestNetGuest guest = new TestNetGuest(VirtioFeature.bit(VirtioNetFeature.CSUM), echo, 64)) {
            guest.postReceiveBuffers(0, 4, 2048);
            final byte[] frame = udpFrame();
            final ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            header.put(0, (byte) VirtioNetHeader.F_NEEDS_CSUM).putShort(6, (short) 34).putShort(8, (short) 6);
            guest.transmit(header.array(), frame, false);
            guest.pollUntilIdle(10);
            assertEquals(1, guest.rxQueue().reap(TOKENS, LENGTHS, 256));
            final byte[] buffer = guest.receiveBuffer(TOKENS[0], LENGTHS[0]);
            assertEquals(0, buffer[0], "flags cleared: the checksum is complete");
            final ByteBuffer udp = ByteBuffer.wrap(buffer, 12 + 34, LENGTHS[0] - 12 - 34).slice();
            assertEquals(0xFFFF, onesComplementSum(udpPseudoHeader(frame), udp), "the UDP checksum verifies");
        }
    }

    @Test
    void controlQueueSetsReceiveModesMacTablesAndQueuePairs() {
        final long features = VirtioFeature.mask(VirtioNetFeature.CTRL_VQ, VirtioNetFeature.CTRL_RX,
                VirtioNetFeature.CTRL_MAC_ADDR, VirtioNetFeature.MQ);
        try (EchoPort echo = new EchoPort(1, 16); TestNetGuest guest = new TestNetGuest(features, echo, 64)) {
            assertEquals(ControlQueueEngine.OK, guest.control(ControlQueueEngine.CLASS_RX, ControlQueueEngine.RX_PROMISC, new byte[] {0}));
            assertFalse(guest.device().receiveFilter().promiscuous());
            final ByteBuffer tables = ByteBuffer.allocate(4 + 6 + 4).order(ByteOrder.LITTLE_ENDIAN);
            tables.putInt(1).put(PEER_MAC).putInt(0);
            assertEquals(ControlQueueEngine.OK, guest.control(ControlQueueEngine.CLASS_MAC, ControlQueueEngine.MAC_TABLE_SET, tables.array()));
            final byte[] bad = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(1000).putInt(0).array();
            assertEquals(ControlQueueEngine.ERR, guest.control(ControlQueueEngine.CLASS_MAC, ControlQueueEngine.MAC_TABLE_SET, bad),
                    "a table claiming more entries than it carries is refused");
            assertEquals(ControlQueueEngine.OK, guest.control(ControlQueueEngine.CLASS_MQ, ControlQueueEngine.MQ_VQ_PAIRS_SET, new byte[] {1, 0}));
            assertEquals(ControlQueueEngine.ERR, guest.control(ControlQueueEngine.CLASS_MQ, ControlQueueEngine.MQ_VQ_PAIRS_SET, new byte[] {2, 0}),
                    "more pairs than the device has");
            assertEquals(ControlQueueEngine.ERR, guest.control(9, 0, new byte[0]), "unknown class");
            final byte[] newMac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
            assertEquals(ControlQueueEngine.OK, guest.control(ControlQueueEngine.CLASS_MAC, ControlQueueEngine.MAC_ADDR_SET, newMac));
            assertArrayEquals(newMac, guest.device().configuration().mac());

            guest.postReceiveBuffers(0, 8, 2048);
            final byte[] stranger = {0x02, 8, 8, 8, 8, 8};
            guest.transmit(null, TestNetGuest.ethernetFrame(stranger, PEER_MAC, 60, 0), false);
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, stranger, 60, 0), false);
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, newMac, 60, 0), false);
            guest.pollUntilIdle(10);
            assertEquals(2, guest.rxQueue().reap(TOKENS, LENGTHS, 256),
                    "echoes addressed to a table entry and to the device's new address pass; one to a stranger does not");
            assertEquals(1, guest.device().queueCounters(0).filtered());
        }
    }

    @Test
    void aBrokenTransmitRingIsReportedOnceAndTheReceiveQueueGoesOn() {
        try (EchoPort echo = new EchoPort(1, 16); TestNetGuest guest = new TestNetGuest(0, echo, 64)) {
            final List<String> reports = new ArrayList<>();
            guest.device().setNeedsResetListener((queue, violation, detail) -> reports.add(queue + ":" + violation));
            final long availRing = 0x0010_0000L + 0x10_0000L + 0x8_0000L;
            guest.memory().putShort(availRing + 4, (short) 1000);
            guest.memory().putShortRelease(availRing + 2, (short) 1);
            guest.pollUntilIdle(5);
            guest.pollUntilIdle(5);
            assertEquals(List.of("1:" + RingViolation.HEAD_OUT_OF_RANGE), reports, "reported once, naming the queue");
            assertNotNull(guest.device().queue(1).violation());
            assertNull(guest.device().queue(0).violation(), "the receive queue is not affected");
        }
    }

    @Test
    void aDisabledQueueDiscardsTransmitsAndDeliversNothing() {
        try (EchoPort echo = new EchoPort(1, 16); TestNetGuest guest = new TestNetGuest(0, echo, 64)) {
            guest.device().setQueueEnabled(1, false);
            guest.postReceiveBuffers(0, 4, 2048);
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 60, 0), false);
            guest.pollUntilIdle(5);
            assertEquals(1, guest.txQueue().reap(TOKENS, LENGTHS, 256), "the buffer is returned");
            assertEquals(0, guest.rxQueue().reap(TOKENS, LENGTHS, 256), "no side effect: nothing was echoed");
            assertEquals(0, guest.device().queueCounters(1).packets());
        }
    }

    @Test
    void logsTheReceiveBufferBytesItWrites() {
        try (EchoPort echo = new EchoPort(1, 16); TestNetGuest guest = new TestNetGuest(0, echo, 64)) {
            final List<long[]> writes = new ArrayList<>();
            guest.device().setDirtyLog((gpa, length) -> writes.add(new long[] {gpa, length}));
            guest.postReceiveBuffers(5, 1, 2048);
            guest.transmit(null, TestNetGuest.ethernetFrame(PEER_MAC, TestNetGuest.GUEST_MAC, 100, 0), false);
            guest.pollUntilIdle(5);
            assertEquals(1, writes.size());
            assertEquals(TestNetGuest.RX_BUFFERS + 5L * TestNetGuest.SLOT_BYTES * 17, writes.getFirst()[0]);
            assertEquals(12 + 114, writes.getFirst()[1], "exactly the header and frame written");
        }
    }

    @Test
    void segmentsATsoFrameForAGuestThatCannotReceiveGsoAndResumesAfterRunningOutOfBuffers() {
        final long features = VirtioFeature.mask(VirtioNetFeature.CSUM, VirtioNetFeature.HOST_TSO4);
        try (EchoPort echo = new EchoPort(1, 16); TestNetGuest guest = new TestNetGuest(features, echo, 64)) {
            final byte[] frame = tcpFrame(4000, 0x11223344, 0x18 | 0x01);
            final ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            header.put(0, (byte) VirtioNetHeader.F_NEEDS_CSUM).put(1, (byte) VirtioNetHeader.GSO_TCPV4)
                    .putShort(2, (short) 54).putShort(4, (short) 1000).putShort(6, (short) 34).putShort(8, (short) 16);
            guest.transmit(header.array(), frame, false);
            guest.postReceiveBuffers(0, 2, 2048);
            guest.pollUntilIdle(10);
            final List<byte[]> segments = new ArrayList<>();
            int n = guest.rxQueue().reap(TOKENS, LENGTHS, 256);
            assertEquals(2, n, "two buffers: two segments now, the rest waits");
            for (int i = 0; i < n; i++) {
                segments.add(guest.receiveBuffer(TOKENS[i], LENGTHS[i]));
            }
            guest.postReceiveBuffers(2, 4, 2048);
            guest.pollUntilIdle(10);
            n = guest.rxQueue().reap(TOKENS, LENGTHS, 256);
            assertEquals(2, n, "the other two segments, none repeated");
            for (int i = 0; i < n; i++) {
                segments.add(guest.receiveBuffer(TOKENS[i], LENGTHS[i]));
            }
            for (int i = 0; i < 4; i++) {
                final byte[] buffer = segments.get(i);
                assertEquals(0, buffer[1], "no GSO toward this guest");
                assertEquals(0, buffer[0], "checksums complete: the guest did not negotiate GUEST_CSUM");
                final ByteBuffer ip = ByteBuffer.wrap(buffer, 12 + 14, buffer.length - 26).slice();
                assertEquals(20 + 20 + 1000, ip.getShort(2) & 0xFFFF, "IPv4 total length of segment " + i);
                assertEquals(0xFFFF, onesComplementSum(0, ByteBuffer.wrap(buffer, 26, 20).slice()), "IP header checksum");
                final ByteBuffer tcp = ByteBuffer.wrap(buffer, 12 + 34, buffer.length - 46).slice();
                assertEquals(0x11223344 + i * 1000, tcp.getInt(4), "sequence number of segment " + i);
                final int flags = tcp.get(13) & 0xFF;
                assertEquals(i == 3 ? 0x19 : 0x10, flags, "FIN and PSH only on the last segment");
                final int pseudo = pseudoHeaderSum(Arrays.copyOfRange(buffer, 38, 42), Arrays.copyOfRange(buffer, 42, 46),
                        1020) - 17 + 6;
                assertEquals(0xFFFF, onesComplementSum(pseudo, tcp.duplicate()), "TCP checksum of segment " + i);
                for (int b = 0; b < 1000; b++) {
                    assertEquals(frame[54 + i * 1000 + b], buffer[12 + 54 + b]);
                }
            }
        }
    }

    private static byte[] tcpFrame(final int payloadBytes, final int sequence, final int flags) {
        final ByteBuffer frame = ByteBuffer.allocate(14 + 20 + 20 + payloadBytes).order(ByteOrder.BIG_ENDIAN);
        frame.put(PEER_MAC).put(TestNetGuest.GUEST_MAC).putShort((short) 0x0800);
        frame.put((byte) 0x45).put((byte) 0).putShort((short) (40 + payloadBytes)).putShort((short) 7).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 6).putShort((short) 0).put(new byte[] {10, 0, 0, 1}).put(new byte[] {10, 0, 0, 2});
        frame.putShort((short) 40000).putShort((short) 80).putInt(sequence).putInt(1).put((byte) 0x50).put((byte) flags)
                .putShort((short) 65535).putShort((short) 0).putShort((short) 0);
        for (int i = 0; i < payloadBytes; i++) {
            frame.put((byte) (i * 31 + 7));
        }
        return frame.array();
    }

    private static byte[] udpFrame() {
        final ByteBuffer frame = ByteBuffer.allocate(14 + 20 + 8 + 31).order(ByteOrder.BIG_ENDIAN);
        frame.put(PEER_MAC).put(TestNetGuest.GUEST_MAC).putShort((short) 0x0800);
        frame.put((byte) 0x45).put((byte) 0).putShort((short) (20 + 8 + 31)).putShort((short) 1).putShort((short) 0)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(new byte[] {10, 0, 0, 1}).put(new byte[] {10, 0, 0, 2});
        final int udpLength = 8 + 31;
        frame.putShort((short) 1234).putShort((short) 5678).putShort((short) udpLength);
        final int pseudo = pseudoHeaderSum(new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}, udpLength);
        frame.putShort((short) fold(pseudo));
        for (int i = 0; i < 31; i++) {
            frame.put((byte) (i * 13 + 1));
        }
        return frame.array();
    }

    private static int pseudoHeaderSum(final byte[] source, final byte[] destination, final int length) {
        int sum = 0;
        for (int i = 0; i < 4; i += 2) {
            sum += ((source[i] & 0xFF) << 8) | (source[i + 1] & 0xFF);
            sum += ((destination[i] & 0xFF) << 8) | (destination[i + 1] & 0xFF);
        }
        return sum + 17 + length;
    }

    private static int fold(final int sum) {
        int folded = sum;
        while ((folded >>> 16) != 0) {
            folded = (folded & 0xFFFF) + (folded >>> 16);
        }
        return folded;
    }

    private static int udpPseudoHeader(final byte[] frame) {
        return pseudoHeaderSum(Arrays.copyOfRange(frame, 26, 30), Arrays.copyOfRange(frame, 30, 34), frame.length - 34);
    }

    private static int onesComplementSum(final int initial, final ByteBuffer data) {
        int sum = initial;
        while (data.remaining() >= 2) {
            sum += data.getShort() & 0xFFFF;
        }
        if (data.hasRemaining()) {
            sum += (data.get() & 0xFF) << 8;
        }
        return fold(sum);
    }
}
