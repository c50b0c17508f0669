package io.vioplane.cli.remote;

import io.vioplane.e1000.E1000Counter;
import io.vioplane.pciremote.MpqemuCounter;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux's own e1000 driver against vioplane's 82540EM served through QEMU 7.2's multi-process proxy
 * ({@code -machine q35 -device x-pci-proxy-dev,fd=N}, TCG), with QEMU's own {@code -device e1000} as the reference in
 * a second guest: the driver enumerates 8086:100E, probes to the end (reset, EEPROM by bit-banging, PHY over MDIC,
 * MAC), and {@code ethtool -i}, {@code -e} (EEPROM) and {@code -d} (registers) agree between the two, except the
 * fields listed in {@link #CTRL_BOARD_BITS} and {@link #STATUS_QEMU_ONLY_BITS}. The EEPROM dump is also checked against
 * what vioplane holds. Under TCG QEMU never consumes the irqfd, so after {@code ip link set eth0 up} the remote
 * device's interrupts (signalled, counted) never reach the guest and its carrier stays down; QEMU's e1000 comes up.
 */
@Tag("qemu")
class E1000RemoteGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final String MAC = "52:54:00:12:34:56";
    /**
     * CTRL bits whose values after probe differ between the two models and that the driver does not write: FD (bit 0)
     * and ASDE (bit 5) are in vioplane's reset value, SWDPIN0 and SWDPIN2 (bits 18, 20: software-definable pins, wired
     * per board) in QEMU's.
     */
    static final int CTRL_BOARD_BITS = 0x1 | 0x20 | 1 << 18 | 1 << 20;
    /**
     * STATUS bits QEMU sets beyond the 82540EM's manual: bit 31, GIO master enable (bit 19, PCIe parts), MTXCKOK (bit
     * 10) and ASDV = 11b (bits 9:8, "not used"; vioplane reports 10b, 1000 Mb/s).
     */
    static final int STATUS_QEMU_ONLY_BITS = 1 << 31 | 1 << 19 | 1 << 10 | 1 << 8;
    /** ethtool -d word 7 is TCTL. */
    static final int TCTL_WORD = 7;
    /**
     * TCTL.PSP: Linux writes TCTL = PSP just before CTRL.RST; vioplane resets TCTL with the device (SDM 14.9), QEMU
     * 7.2's e1000 ignores CTRL.RST (its set_ctrl only clears the bit), so its TCTL keeps PSP.
     */
    static final int TCTL_PSP = 1 << 3;
    /**
     * ethtool -d word 26 is MANC, the manageability control of a part with management firmware (ASF/TCO): QEMU sets
     * EN_MNG2HOST, RCV_TCO_EN, ARP_EN, 0298_EN and RMCP_EN (0x00222300) as if firmware were running; vioplane models a
     * part without it (0). Linux only clears ARP_EN when management pass-through is on.
     */
    static final int MANC_WORD = 26;
    private static final String PCI = "for d in /sys/bus/pci/devices/*; do [ \"$(cat $d/class)\" = 0x020000 ] &&"
            + " echo $(basename $d) $(cat $d/vendor) $(cat $d/device) $(cat $d/class) $(cat $d/revision)"
            + " $(cat $d/subsystem_vendor) $(cat $d/subsystem_device); done; true";

    /** What the guest shows of its e1000. */
    record GuestView(String pci, String bound, String link, String driverInfo, String eeprom, String registers,
                     String decoded, String carrierAfterUp, String interruptsAfterUp) {
    }

    @Test
    void linuxProbesVioplanesRemoteE1000AndItsEthtoolDumpsMatchQemusOwnE1000(@TempDir final Path directory)
            throws Exception {
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        Requirements.requireCommand("perl", "perl-base");
        Requirements.requireCommand("ethtool", "ethtool");
        final GuestView remote;
        final RemoteE1000Session session = new RemoteE1000Session(directory.resolve("e1000.sock"));
        try (session; QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard())
                .connectedSocket(directory.resolve("e1000.sock"))
                .extraArguments("-machine", "q35", "-device", "x-pci-proxy-dev,id=p0,fd=" + QemuGuest.CONNECTED_FD)
                .build()) {
            guest.start();
            guest.awaitShell(BOOT);
            remote = view(guest);
        }
        final GuestView reference;
        try (QemuGuest guest = QemuGuest.builder(LinuxGuestImage.standard())
                .extraArguments("-machine", "q35", "-device", "e1000,romfile=,mac=" + MAC).build()) {
            guest.start();
            guest.awaitShell(BOOT);
            reference = view(guest);
        }
        System.out.println("vioplane's e1000 through x-pci-proxy-dev:\n" + remote.pci() + "\n" + remote.decoded());
        System.out.println("QEMU's e1000:\n" + reference.pci() + "\n" + reference.decoded());

        try (RemoteE1000 e1000 = session.finish("QEMU closed the connection")) {
            System.out.println("remote requests: " + e1000.protocolCounters() + "\ndevice: " + e1000.deviceCounters());
            assertTrue(remote.pci().matches("0000:00:\\S+ 0x8086 0x100e 0x020000 0x03 0x8086 0x100e"), remote.pci());
            assertTrue(reference.pci().matches("0000:00:\\S+ 0x8086 0x100e 0x020000 0x03 0x1af4 0x1100"),
                    "QEMU gives its own devices Red Hat's subsystem IDs: " + reference.pci());
            assertTrue(remote.bound().contains("0000:00:"), "e1000 bound the device: " + remote.bound());
            assertTrue(remote.link().contains("link/ether " + MAC), remote.link());
            assertEquals(reference.link(), remote.link());
            assertEquals(reference.driverInfo(), remote.driverInfo());
            assertTrue(remote.driverInfo().contains("driver: e1000"), remote.driverInfo());

            final byte[] eeprom = hexDump(remote.eeprom());
            assertArrayEquals(hexDump(reference.eeprom()), eeprom, "ethtool -e");
            assertEquals(128, eeprom.length);
            for (int word = 0; word < 64; word++) {
                assertEquals(e1000.e1000().device().eepromWord(word),
                        (eeprom[2 * word] & 0xFF) | (eeprom[2 * word + 1] & 0xFF) << 8, "EEPROM word " + word);
            }

            final int[] ours = words(hexDump(remote.registers()));
            final int[] theirs = words(hexDump(reference.registers()));
            assertEquals(theirs.length, ours.length, "ethtool -d dump length");
            assertEquals(theirs[0] & ~CTRL_BOARD_BITS, ours[0] & ~CTRL_BOARD_BITS, "CTRL");
            assertEquals(theirs[1] & ~STATUS_QEMU_ONLY_BITS, ours[1] & ~STATUS_QEMU_ONLY_BITS, "STATUS");
            final StringBuilder differences = new StringBuilder();
            for (int i = 2; i < ours.length; i++) {
                final int mask = i == TCTL_WORD ? ~TCTL_PSP : i == MANC_WORD ? 0 : -1;
                if ((theirs[i] & mask) != (ours[i] & mask)) {
                    differences.append(String.format("word %d: vioplane 0x%08x, QEMU 0x%08x%n", i, ours[i], theirs[i]));
                }
            }
            assertEquals("", differences.toString(), "ethtool -d words that differ");
            System.out.printf("ethtool -d, documented differences: CTRL vioplane 0x%08x QEMU 0x%08x; STATUS vioplane"
                    + " 0x%08x QEMU 0x%08x; TCTL vioplane 0x%08x QEMU 0x%08x; MANC vioplane 0x%08x QEMU 0x%08x%n",
                    ours[0], theirs[0], ours[1], theirs[1], ours[TCTL_WORD], theirs[TCTL_WORD], ours[MANC_WORD],
                    theirs[MANC_WORD]);

            assertEquals("0", remote.carrierAfterUp(), "under TCG the irqfd is never consumed: no LSC, no carrier");
            assertEquals("1", reference.carrierAfterUp(), "QEMU's own e1000 delivers LSC and the link comes up");
            assertTrue(e1000.protocolCounters().get(MpqemuCounter.INTERRUPTS) > 0,
                    "vioplane signalled the irqfd: " + e1000.protocolCounters());
            System.out.println("guest interrupts after link up: remote " + remote.interruptsAfterUp() + ", QEMU "
                    + reference.interruptsAfterUp());

            final Set<MpqemuCounter> refusals = EnumSet.range(MpqemuCounter.MALFORMED_MESSAGE,
                    MpqemuCounter.INTERRUPT_FAILED);
            assertEquals(0, e1000.protocolCounters().total(refusals), "QEMU sent nothing we refused: "
                    + e1000.protocolCounters());
            assertEquals(0, e1000.deviceCounters().total(guestFaults()), "Linux's driver did nothing the model "
                    + "counts as misbehaviour: " + e1000.deviceCounters());
        }
    }

    private static Set<E1000Counter> guestFaults() {
        final Set<E1000Counter> faults = EnumSet.allOf(E1000Counter.class);
        faults.removeAll(EnumSet.of(E1000Counter.RESETS, E1000Counter.INTERRUPTS, E1000Counter.TX_FRAMES,
                E1000Counter.RX_FRAMES, E1000Counter.TX_PORT_DROPS, E1000Counter.RX_MISSED,
                E1000Counter.RX_WHILE_DISABLED, E1000Counter.RX_FILTERED));
        return faults;
    }

    private static GuestView view(final QemuGuest guest) {
        final String pci = guest.runSuccessfully(PCI, COMMAND).output().strip();
        final String bound = guest.runSuccessfully("ls /sys/bus/pci/drivers/e1000", COMMAND).output().strip();
        final String link = guest.runSuccessfully("ip link show eth0", COMMAND).output().strip();
        final String info = guest.runSuccessfully("ethtool -i eth0", COMMAND).output().strip();
        final String eeprom = guest.runSuccessfully("ethtool -e eth0", COMMAND).output();
        final String registers = guest.runSuccessfully("ethtool -d eth0 hex on", COMMAND).output();
        final String decoded = guest.runSuccessfully("ethtool -d eth0", COMMAND).output();
        guest.runSuccessfully("ip link set eth0 up", COMMAND);
        final String carrier = guest.runSuccessfully("sleep 4; cat /sys/class/net/eth0/carrier", COMMAND).output()
                .strip();
        final String interrupts = guest.runSuccessfully("grep -e eth0 -e e1000 /proc/interrupts || true", COMMAND)
                .output().strip();
        return new GuestView(pci, bound, link, info, eeprom, registers, decoded, carrier, interrupts);
    }

    private static final Pattern HEX_LINE = Pattern.compile("(?m)^0x[0-9a-f]+:\\s+((?:[0-9a-f]{2}\\s+)+)");

    /** @return the bytes of an ethtool hex dump ("0x0000:  52 54 00 ...") */
    static byte[] hexDump(final String text) {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final Matcher matcher = HEX_LINE.matcher(text);
        while (matcher.find()) {
            for (final String octet : matcher.group(1).trim().split("\\s+")) {
                bytes.write(Integer.parseInt(octet, 16));
            }
        }
        return bytes.toByteArray();
    }

    private static int[] words(final byte[] bytes) {
        final int[] words = new int[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(words);
        return words;
    }
}
