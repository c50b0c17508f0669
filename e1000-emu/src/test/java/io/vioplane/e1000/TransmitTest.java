package io.vioplane.e1000;

import io.vioplane.e1000.testkit.E1000TestDriver;
import io.vioplane.e1000.testkit.Frames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.vioplane.e1000.E1000Registers.*;
import static io.vioplane.e1000.testkit.Frames.*;
import static org.junit.jupiter.api.Assertions.*;

/** Transmit: descriptors, write-back, causes, checksum offload and TSO, each result recomputed independently. */
class TransmitTest {
    static final int EOP = 0x01;
    static final int IFCS = 0x02;
    static final int IC = 0x04;
    static final int TSE = 0x04;
    static final int RS = 0x08;
    static final int DEXT = 0x20;
    static final int VLE = 0x40;
    static final int IDE = 0x80;
    static final int DTYP_DATA = 1 << 20;
    static final int TUCMD_TCP = 0x01;
    static final int TUCMD_IP = 0x02;

    private final E1000TestDriver driver = new E1000TestDriver();

    @BeforeEach
    void start() {
        driver.reset();
        driver.start(0);
    }

    @AfterEach
    void close() {
        driver.close();
    }

    /** @return a context descriptor's first quadword */
    static long offsets(final int ipcss, final int ipcso, final int ipcse, final int tucss, final int tucso,
                        final int tucse) {
        return (ipcss | (ipcso << 8) | ((long) ipcse << 16))
            | ((long) (tucss | (tucso << 8)) << 32) | ((long) tucse << 48);
    }

    @Test
    void legacyFrameReachesThePortAndRsWritesBackDd() {
        driver.write(IMS, ICR_TXDW | ICR_TXQE);
        final byte[] frame = raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 200);
        driver.sendLegacy(frame);
        assertEquals(1, driver.port().transmitted().size());
        assertArrayEquals(frame, driver.port().transmitted().get(0));
        assertEquals(1, driver.read(TDH));
        assertEquals(1, driver.txStatus(0) & 0x01);
        assertEquals(ICR_TXDW | ICR_TXQE | ICR_INT_ASSERTED, driver.read(ICR));
    }

    @Test
    void descriptorsWithoutRsAreNotWrittenBack() {
        final long buffer = driver.txBuffer(0, raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 60));
        driver.queueTx(buffer, 74 | ((EOP | IFCS) << 24), 0);
        driver.ringTx();
        assertEquals(0, driver.txStatus(0));
        assertEquals(1, driver.port().transmitted().size());
    }

    @Test
    void framesGatheredFromSeveralDescriptors() {
        final byte[] frame = raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 1000);
        final long first = driver.txBuffer(0, Arrays.copyOfRange(frame, 0, 100));
        final long second = driver.txBuffer(1, Arrays.copyOfRange(frame, 100, 700));
        final long third = driver.txBuffer(2, Arrays.copyOfRange(frame, 700, frame.length));
        driver.queueTx(first, 100, 0);
        driver.queueTx(second, 600, 0);
        driver.queueTx(third, (frame.length - 700) | ((EOP | RS) << 24), 0);
        driver.ringTx();
        assertArrayEquals(frame, driver.port().transmitted().get(0));
    }

    @Test
    void legacyInsertChecksumFillsTheTcpChecksum() {
        final byte[] frame = ipv4(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 6, 333);
        putU16(frame, 14 + 10, (~sum(frame, 14, 20, 0)) & 0xFFFF);
        putU16(frame, 50, pseudoHeader(frame, frame.length - 34));
        final long buffer = driver.txBuffer(0, frame);
        driver.queueTx(buffer, frame.length | (50 << 16) | ((EOP | IC | RS) << 24), 34 << 8);
        driver.ringTx();
        final byte[] sent = driver.port().transmitted().get(0);
        assertTrue(ipChecksumValid(sent));
        assertTrue(transportChecksumValid(sent));
    }

    @Test
    void contextChecksumOffloadFillsIpAndUdpChecksums() {
        final byte[] frame = ipv4(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 17, 201);
        putU16(frame, 40, pseudoHeader(frame, frame.length - 34));
        driver.queueTx(offsets(14, 24, 33, 34, 40, 0), (DEXT | TUCMD_IP) << 24, 0);
        final long buffer = driver.txBuffer(1, frame);
        driver.queueTx(buffer, frame.length | DTYP_DATA | ((EOP | RS | DEXT) << 24), 0x03 << 8);
        driver.ringTx();
        final byte[] sent = driver.port().transmitted().get(0);
        assertTrue(ipChecksumValid(sent));
        assertTrue(transportChecksumValid(sent));
    }

    @Test
    void tsoSegmentsASixtyKilobyteSendWithPerSegmentHeaders() {
        final int payload = 60000;
        final int mss = 1460;
        final byte[] frame = ipv4(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 6, payload);
        putU16(frame, 16, 0);
        putU16(frame, 50, pseudoHeader(frame, 0));
        driver.queueTx(offsets(14, 24, 33, 34, 50, 0), payload | ((DEXT | TUCMD_IP | TUCMD_TCP | TSE) << 24),
            (54 << 8) | (mss << 16));
        driver.memory().writeBytes(E1000TestDriver.TSO_BUFFER_GPA, frame);
        driver.queueTx(E1000TestDriver.TSO_BUFFER_GPA, 1054 | DTYP_DATA | ((TSE | DEXT) << 24), 0x03 << 8);
        driver.queueTx(E1000TestDriver.TSO_BUFFER_GPA + 1054, (frame.length - 1054) | DTYP_DATA
            | ((EOP | TSE | RS | DEXT) << 24), 0x03 << 8);
        driver.ringTx();
        final List<byte[]> segments = driver.port().transmitted();
        final int expected = (payload + mss - 1) / mss;
        assertEquals(expected, segments.size());
        int offset = 0;
        for (int i = 0; i < expected; i++) {
            final byte[] segment = segments.get(i);
            final int segmentPayload = Math.min(mss, payload - offset);
            final boolean last = i == expected - 1;
            assertEquals(54 + segmentPayload, segment.length, "segment " + i);
            assertEquals(segment.length - 14, u16(segment, 16), "IP total length " + i);
            assertEquals(0x1234 + i, u16(segment, 18), "IP id " + i);
            assertEquals(0x1000_0000 + offset, u32(segment, 38), "sequence " + i);
            assertEquals(last ? 0x19 : 0x10, segment[47] & 0xFF, "flags " + i);
            assertTrue(ipChecksumValid(segment), "IP checksum " + i);
            assertTrue(transportChecksumValid(segment), "TCP checksum " + i);
            assertArrayEquals(Arrays.copyOfRange(frame, 54 + offset, 54 + offset + segmentPayload),
                Arrays.copyOfRange(segment, 54, segment.length), "payload " + i);
            offset += segmentPayload;
        }
        assertEquals(1, driver.read(TSCTC));
        assertEquals(0, driver.count(E1000Counter.TSO_PAYLOAD_MISMATCH));
    }

    @Test
    void vlanTagInsertedWhenVmeAndVle() {
        driver.write(CTRL, driver.read(CTRL) | CTRL_VME);
        final byte[] frame = raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 50);
        final long buffer = driver.txBuffer(0, frame);
        driver.queueTx(buffer, frame.length | ((EOP | RS | VLE) << 24), 0x0123 << 16);
        driver.ringTx();
        final byte[] sent = driver.port().transmitted().get(0);
        assertEquals(frame.length + 4, sent.length);
        assertArrayEquals(Arrays.copyOfRange(frame, 0, 12), Arrays.copyOfRange(sent, 0, 12));
        assertEquals(0x8100, u16(sent, 12));
        assertEquals(0x0123, u16(sent, 14));
        assertArrayEquals(Arrays.copyOfRange(frame, 12, frame.length), Arrays.copyOfRange(sent, 16, sent.length));
    }

    @Test
    void nothingMovesWhileTransmitIsDisabled() {
        driver.write(TCTL, 0);
        driver.sendLegacy(raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 50));
        assertEquals(0, driver.read(TDH));
        assertTrue(driver.port().transmitted().isEmpty());
        driver.write(TCTL, TCTL_EN);
        assertEquals(1, driver.port().transmitted().size());
    }

    @Test
    void txdLowWhenLowThresholdSet() {
        driver.write(TXDCTL, 1 << 25);
        driver.write(IMS, ICR_TXD_LOW);
        driver.sendLegacy(raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 50));
        assertNotEquals(0, driver.read(ICR) & ICR_TXD_LOW);
    }
}
