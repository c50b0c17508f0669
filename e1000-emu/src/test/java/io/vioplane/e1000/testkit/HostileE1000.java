package io.vioplane.e1000.testkit;

import io.vioplane.e1000.E1000Counter;

import java.util.List;
import java.util.function.Consumer;

import static io.vioplane.e1000.E1000Registers.*;
import static io.vioplane.e1000.testkit.E1000TestDriver.*;
import static io.vioplane.e1000.testkit.Frames.*;

/**
 * The catalogue of hostile 82540EM drivers: what a malicious or broken guest can do to the register file, the
 * rings, the offload contexts, the EEPROM interface and the MDIO bus, each with the counter the device must
 * raise. Every attack starts from a reset device with both rings set up ({@link E1000TestDriver#start}).
 */
public final class HostileE1000 {
    static final int EOP = 0x01;
    static final int RS = 0x08;
    static final int TSE = 0x04;
    static final int DEXT = 0x20;
    static final int DTYP_DATA = 1 << 20;
    static final int TUCMD_TCP = 0x01;
    static final int TUCMD_IP = 0x02;
    static final long OUTSIDE_GPA = 0x7000_0000L;

    /**
     * One attack.
     *
     * @param name     what the guest does, as a test name
     * @param plant    does it to the driver's device
     * @param expected the counter that must count it
     */
    public record Attack(String name, Consumer<E1000TestDriver> plant, E1000Counter expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private HostileE1000() {
    }

    private static long tcpContext(final int tucso) {
        return 14 | (24 << 8) | (33L << 16) | ((long) (34 | (tucso << 8)) << 32);
    }

    private static void tso(final E1000TestDriver driver, final int hdrLen, final int mss, final int payLen,
                            final int tucso, final int dataBytes) {
        driver.queueTx(tcpContext(tucso), payLen | ((DEXT | TUCMD_IP | TUCMD_TCP | TSE) << 24),
            (hdrLen << 8) | (mss << 16));
        final long buffer = driver.txBuffer(1, ipv4(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 6, 1000));
        driver.queueTx(buffer, dataBytes | DTYP_DATA | ((EOP | RS | TSE | DEXT) << 24), 0x03 << 8);
        driver.ringTx();
    }

    private static void legacy(final E1000TestDriver driver, final long address, final int length, final int cmd) {
        driver.queueTx(address, length | (cmd << 24), 0);
    }

    private static void clockEeprom(final E1000TestDriver driver, final int pins, final int bits, final int value) {
        for (int bit = bits - 1; bit >= 0; bit--) {
            final int di = ((value >>> bit) & 1) != 0 ? EECD_DI : 0;
            driver.write(EECD, pins | di);
            driver.write(EECD, pins | di | EECD_SK);
            driver.write(EECD, pins | di);
        }
    }

    /** @return every attack */
    public static List<Attack> attacks() {
        return List.of(
            new Attack("txRingBaseOutsideGuestMemory", d -> {
                d.write(TDBAL, (int) OUTSIDE_GPA);
                d.sendLegacy(raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 50));
            }, E1000Counter.RING_OUTSIDE_MEMORY),
            new Attack("txRingEndsPastGuestMemory", d -> {
                d.write(TDBAL, (int) (MEMORY_GPA + MEMORY_BYTES - 128));
                d.sendLegacy(raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 50));
            }, E1000Counter.RING_OUTSIDE_MEMORY),
            new Attack("rxRingBaseOutsideGuestMemory", d -> {
                d.write(RDBAL, (int) OUTSIDE_GPA);
                d.port().queue(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 50));
                d.device().poll(8);
            }, E1000Counter.RING_OUTSIDE_MEMORY),
            new Attack("ringLengthNotAMultipleOf128", d -> d.write(TDLEN, 100), E1000Counter.RING_LENGTH_NOT_128),
            new Attack("tdtBeyondTheRing", d -> d.write(TDT, 1000), E1000Counter.TAIL_BEYOND_RING),
            new Attack("rdtBeyondTheRing", d -> {
                d.write(RDT, 1000);
                d.port().queue(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 50));
                d.device().poll(8);
            }, E1000Counter.TAIL_BEYOND_RING),
            new Attack("tdhBeyondTheRing", d -> {
                d.write(TDH, 500);
                d.write(TDT, 1);
            }, E1000Counter.HEAD_BEYOND_RING),
            new Attack("txDescriptorOfLengthZero", d -> {
                legacy(d, TX_BUFFERS_GPA, 0, EOP | RS);
                d.ringTx();
            }, E1000Counter.TX_ZERO_LENGTH),
            new Attack("txDescriptorLongerThanThePacketBuffer", d -> {
                d.queueTx(TSO_BUFFER_GPA, 0xF_FFFF | DTYP_DATA | ((EOP | RS | DEXT) << 24), 0);
                d.ringTx();
            }, E1000Counter.TX_PACKET_TOO_LONG),
            new Attack("txBufferOutsideGuestMemory", d -> {
                legacy(d, OUTSIDE_GPA, 100, EOP | RS);
                d.ringTx();
            }, E1000Counter.TX_BUFFER_OUTSIDE_MEMORY),
            new Attack("txBufferWrappingTheAddressSpace", d -> {
                legacy(d, -64, 100, EOP | RS);
                d.ringTx();
            }, E1000Counter.TX_BUFFER_OUTSIDE_MEMORY),
            new Attack("tsoWithMssZero", d -> tso(d, 54, 0, 946, 50, 1000), E1000Counter.TSO_MSS_ZERO),
            new Attack("tsoHeaderLengthPastTheData", d -> tso(d, 54, 500, 0, 50, 30), E1000Counter.TSO_HEADER_PAST_DATA),
            new Attack("tsoChecksumFieldPastTheHeader", d -> tso(d, 54, 500, 946, 200, 1000),
                E1000Counter.TSO_HEADER_PAST_DATA),
            new Attack("tsoHeaderShorterThanEthernetAndIp", d -> tso(d, 10, 500, 990, 50, 1000),
                E1000Counter.TSO_HEADER_PAST_DATA),
            new Attack("tsoPayloadLengthDisagreesWithTheData", d -> tso(d, 54, 500, 5000, 50, 1000),
                E1000Counter.TSO_PAYLOAD_MISMATCH),
            new Attack("contextDescriptorInTheMiddleOfAPacket", d -> {
                final long buffer = d.txBuffer(0, raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 100));
                legacy(d, buffer, 50, 0);
                d.queueTx(0, (DEXT | TUCMD_IP) << 24, 0);
                legacy(d, buffer + 50, 64, EOP | RS);
                d.ringTx();
            }, E1000Counter.TX_CONTEXT_MID_PACKET),
            new Attack("packetWithMoreDescriptorsThanTheRing", d -> {
                d.write(TDLEN, 128);
                final long buffer = d.txBuffer(0, raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 100));
                for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < 7; i++) {
                        d.writeTxDescriptor((d.read(TDT) + i) % 8, buffer, 10, 0);
                    }
                    d.write(TDT, (d.read(TDT) + 7) % 8);
                }
            }, E1000Counter.TX_PACKET_LONGER_THAN_RING),
            new Attack("checksumFieldOutsideTheFrame", d -> {
                d.queueTx(14 | (250 << 8), (DEXT | TUCMD_IP) << 24, 0);
                final long buffer = d.txBuffer(1, raw(PEER_MAC_BYTES, DEVICE_MAC_BYTES, 50));
                d.queueTx(buffer, 64 | DTYP_DATA | ((EOP | RS | DEXT) << 24), 0x01 << 8);
                d.ringTx();
            }, E1000Counter.TX_CHECKSUM_OUTSIDE_FRAME),
            new Attack("rxBufferOutsideGuestMemory", d -> {
                d.writeRxDescriptor(0, OUTSIDE_GPA);
                d.port().queue(raw(DEVICE_MAC_BYTES, PEER_MAC_BYTES, 50));
                d.device().poll(8);
            }, E1000Counter.RX_BUFFER_OUTSIDE_MEMORY),
            new Attack("eepromCommandAbortedMidway", d -> {
                for (int i = 0; i < 20; i++) {
                    d.write(EECD, EECD_SK);
                    d.write(EECD, 0);
                }
                d.write(EECD, EECD_CS);
                clockEeprom(d, EECD_CS, 4, 0b1101);
                d.write(EECD, 0);
            }, E1000Counter.EEPROM_OUT_OF_SEQUENCE),
            new Attack("eepromWriteOpcode", d -> {
                d.write(EECD, EECD_CS);
                clockEeprom(d, EECD_CS, 9, (0b101 << 6) | 3);
                clockEeprom(d, EECD_CS, 16, 0xDEAD);
                d.write(EECD, 0);
            }, E1000Counter.EEPROM_UNSUPPORTED_OPCODE),
            new Attack("mdicToANonexistentPhy", d -> d.mdicRead(7, 2), E1000Counter.MDIC_NO_SUCH_PHY),
            new Attack("mdicToANonexistentPhyRegister", d -> d.mdicRead(1, 0x0B), E1000Counter.MDIC_BAD_REGISTER),
            new Attack("mdicWithBothOpcodes", d -> d.write(MDIC, (3 << 26) | (1 << 21)),
                E1000Counter.MDIC_BAD_REGISTER),
            new Attack("misalignedRegisterAccess", d -> d.device().mmioWrite(CTRL + 1, 4, 0),
                E1000Counter.ODD_ACCESS_SIZE),
            new Attack("accessBeyondTheBar", d -> d.device().mmioRead(MMIO_BYTES, 4), E1000Counter.ODD_ACCESS_SIZE)
        );
    }
}
