package io.vioplane.e1000;

import io.vioplane.e1000.testkit.E1000TestDriver;
import io.vioplane.e1000.testkit.Frames;
import io.vioplane.virtionet.port.EchoPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.zip.CRC32;

import static io.vioplane.e1000.E1000Registers.*;
import static io.vioplane.e1000.testkit.Frames.*;
import static org.junit.jupiter.api.Assertions.*;

/** Receive: buffer sizing, FCS, filters, VLAN, checksum reporting, overrun, thresholds, and an echo loopback. */
class ReceiveTest {
    private E1000TestDriver driver = new E1000TestDriver();

    @AfterEach
    void close() {
        driver.close();
    }

    private E1000TestDriver.Received receiveOne(final byte[] frame) {
        driver.port().queue(frame);
        driver.device().poll(16);
        return driver.receive();
    }

    @Test
    void frameToTheDeviceMacArrivesInOneBuffer() {
        driver.reset();
        driver.start(0);
        final byte[] frame = raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 500);
        final E1000TestDriver.Received received = receiveOne(frame);
        assertArrayEquals(frame, received.frame());
        assertEquals(1, received.descriptors());
        assertEquals(0x01 | 0x02 | 0x04, received.status(), "DD, EOP, IXSM (no checksum offload)");
        assertEquals(1, driver.read(GPRC));
        assertEquals(frame.length + 4, driver.read(GORCL));
    }

    @Test
    void smallBuffersSpreadAFrameOverSeveralDescriptors() {
        driver.reset();
        driver.start(3 << RCTL_BSIZE_SHIFT);
        final byte[] frame = raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 1000);
        final E1000TestDriver.Received received = receiveOne(frame);
        assertEquals(4, received.descriptors(), "256-byte buffers");
        assertArrayEquals(frame, received.frame());
    }

    @Test
    void bufferSizesFollowBsizeAndBsex() {
        assertEquals(2048, ReceivePath.bufferBytes(0));
        assertEquals(1024, ReceivePath.bufferBytes(1 << RCTL_BSIZE_SHIFT));
        assertEquals(512, ReceivePath.bufferBytes(2 << RCTL_BSIZE_SHIFT));
        assertEquals(256, ReceivePath.bufferBytes(3 << RCTL_BSIZE_SHIFT));
        assertEquals(16384, ReceivePath.bufferBytes(RCTL_BSEX | (1 << RCTL_BSIZE_SHIFT)));
        assertEquals(8192, ReceivePath.bufferBytes(RCTL_BSEX | (2 << RCTL_BSIZE_SHIFT)));
        assertEquals(4096, ReceivePath.bufferBytes(RCTL_BSEX | (3 << RCTL_BSIZE_SHIFT)));
    }

    @Test
    void fcsIsStoredUnlessSecrc() {
        driver.reset();
        driver.start(0);
        driver.write(RCTL, driver.read(RCTL) & ~RCTL_SECRC);
        final byte[] frame = raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 100);
        final byte[] received = receiveOne(frame).frame();
        assertEquals(frame.length + 4, received.length);
        final CRC32 crc = new CRC32();
        crc.update(frame);
        final long fcs = (received[frame.length] & 0xFFL) | (received[frame.length + 1] & 0xFFL) << 8
            | (received[frame.length + 2] & 0xFFL) << 16 | (received[frame.length + 3] & 0xFFL) << 24;
        assertEquals(crc.getValue(), fcs);
    }

    @Test
    void shortFramesArePaddedToSixtyBytes() {
        driver.reset();
        driver.start(0);
        final byte[] received = receiveOne(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 10)).frame();
        assertEquals(60, received.length);
    }

    @Test
    void addressFiltersDecideWhatIsReceived() {
        driver.reset();
        driver.start(0);
        final byte[] other = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
        assertNull(receiveOne(raw(other, PEER_MAC_BYTES, 50)), "unicast to another address");
        driver.write(RCTL, driver.read(RCTL) | RCTL_UPE);
        assertNotNull(receiveOne(raw(other, PEER_MAC_BYTES, 50)), "unicast promiscuous");
        driver.write(RCTL, driver.read(RCTL) & ~(RCTL_UPE | RCTL_BAM));
        assertNull(receiveOne(raw(BROADCAST, PEER_MAC_BYTES, 50)), "broadcast without BAM");
        final byte[] multicast = {0x01, 0x00, 0x5E, 0x00, 0x00, (byte) 0xFB};
        assertNull(receiveOne(raw(multicast, PEER_MAC_BYTES, 50)), "multicast without its MTA bit");
        final int hash = ((multicast[4] & 0xFF) >>> 4) | ((multicast[5] & 0xFF) << 4);
        driver.write(MTA + 4 * (hash >>> 5), 1 << (hash & 31));
        assertNotNull(receiveOne(raw(multicast, PEER_MAC_BYTES, 50)), "multicast with its MTA bit");
        driver.write(RA + 8 * 3, 0x3322_1102);
        driver.write(RA + 8 * 3 + 4, 0x5544);
        assertNull(receiveOne(raw(other, PEER_MAC_BYTES, 50)), "exact match without AV");
        driver.write(RA + 8 * 3 + 4, 0x5544 | RAH_AV);
        assertNotNull(receiveOne(raw(other, PEER_MAC_BYTES, 50)), "exact match with AV");
        assertEquals(4, driver.count(E1000Counter.RX_FILTERED));
    }

    private static byte[] tagged(final int tag, final byte[] inner) {
        final byte[] frame = new byte[inner.length + 4];
        System.arraycopy(inner, 0, frame, 0, 12);
        putU16(frame, 12, 0x8100);
        putU16(frame, 14, tag);
        System.arraycopy(inner, 12, frame, 16, inner.length - 12);
        return frame;
    }

    @Test
    void vlanFilterTableAndTagStripping() {
        driver.reset();
        driver.start(RCTL_VFE);
        driver.write(CTRL, driver.read(CTRL) | CTRL_VME);
        final byte[] inner = raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 80);
        assertNull(receiveOne(tagged(0x2005, inner)), "VLAN 5 not in VFTA");
        driver.write(VFTA, 1 << 5);
        final E1000TestDriver.Received received = receiveOne(tagged(0x2005, inner));
        assertArrayEquals(inner, received.frame());
        assertEquals(0x2005, received.special());
        assertNotEquals(0, received.status() & 0x08, "VP");
    }

    @Test
    void checksumOffloadReportsGoodAndBadChecksums() {
        driver.reset();
        driver.start(0);
        driver.write(RXCSUM, RXCSUM_IPOFL | RXCSUM_TUOFL);
        final byte[] frame = ipv4(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 6, 300);
        putU16(frame, 24, (~sum(frame, 14, 20, 0)) & 0xFFFF);
        putU16(frame, 50, (~sum(frame, 34, frame.length - 34, pseudoHeader(frame, frame.length - 34))) & 0xFFFF);
        assertTrue(transportChecksumValid(frame));
        final E1000TestDriver.Received good = receiveOne(frame);
        assertEquals(0x20 | 0x40, good.status() & 0x64, "TCPCS, IPCS, not IXSM");
        assertEquals(0, good.errors());
        frame[frame.length - 1] ^= 0x55;
        final E1000TestDriver.Received bad = receiveOne(frame);
        assertEquals(0x20, bad.errors(), "TCPE");
    }

    @Test
    void noBuffersLeavesFramesWaitingAndCountsRnbc() {
        driver.reset();
        driver.start(0);
        driver.write(RDT, driver.read(RDH));
        driver.port().queue(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 50));
        driver.device().poll(16);
        assertEquals(1, driver.port().pending());
        assertEquals(1, driver.read(RNBC));
    }

    @Test
    void frameLargerThanTheFreeBuffersIsMissedWithRxo() {
        driver.reset();
        driver.start(3 << RCTL_BSIZE_SHIFT);
        driver.write(RDT, 2);
        driver.write(IMS, ICR_RXO);
        final E1000TestDriver.Received received = receiveOne(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 1000));
        assertNull(received);
        assertEquals(1, driver.read(MPC));
        assertNotEquals(0, driver.read(ICR) & ICR_RXO);
    }

    @Test
    void rxdmt0WhenFreeDescriptorsFallToTheThreshold() {
        driver.reset();
        driver.start(0);
        driver.write(RDT, 3);
        driver.read(ICR);
        driver.write(IMS, ICR_RXDMT0);
        assertNotNull(receiveOne(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 50)));
        assertNotEquals(0, driver.read(ICR) & ICR_RXDMT0);
    }

    @Test
    void oversizedFramesNeedLpe() {
        driver.reset();
        driver.start(0);
        assertNull(receiveOne(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 3000)));
        assertEquals(1, driver.read(ROC));
        driver.write(RCTL, driver.read(RCTL) | RCTL_LPE);
        assertEquals(3014, receiveOne(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 3000)).frame().length);
    }

    @Test
    void echoPortLoopsTransmittedFramesBackIntoTheReceiveRing() {
        driver.close();
        try (EchoPort echo = new EchoPort(1, 64)) {
            driver = new E1000TestDriver(echo);
            driver.reset();
            driver.start(0);
            for (int i = 0; i < 100; i++) {
                final byte[] frame = raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 60 + i * 13);
                driver.sendLegacy(frame);
                driver.device().poll(16);
                final E1000TestDriver.Received back = driver.receive();
                assertNotNull(back, "frame " + i);
                assertArrayEquals(Arrays.copyOfRange(frame, 0, 6), Arrays.copyOfRange(back.frame(), 6, 12));
                assertArrayEquals(Arrays.copyOfRange(frame, 12, frame.length),
                    Arrays.copyOfRange(back.frame(), 12, back.frame().length));
            }
            assertEquals(100, driver.read(GPTC));
            assertEquals(100, driver.read(GPRC));
        }
    }
}
