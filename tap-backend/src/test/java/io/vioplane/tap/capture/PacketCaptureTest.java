package io.vioplane.tap.capture;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Requirements;
import io.vioplane.tap.bridge.Bridge;
import io.vioplane.tap.bridge.GuestBridgePort;
import io.vioplane.virtionet.testkit.TestNetGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Frames crossing a bridge are journaled with port, direction and time, exported as pcap and pcapng, and read
 * back both by parsing the file and by tshark (Wireshark's command-line reader).
 */
class PacketCaptureTest {
    private static final byte[] MAC_A = {0x02, 0, 0, 0, 0, 0x0A};
    private static final byte[] MAC_B = {0x02, 0, 0, 0, 0, 0x0B};

    private static long captureTwoGuests(final Path journal) {
        final Bridge bridge = Bridge.create("cap", Counters.inMemory(256));
        try (PacketCapture capture = new PacketCapture(journal, 2048, 1 << 20, Counters.inMemory(8));
             GuestBridgePort portA = new GuestBridgePort("a", bridge, 1500, MAC_A, 16);
             GuestBridgePort portB = new GuestBridgePort("b", bridge, 1500, MAC_B, 16);
             TestNetGuest a = new TestNetGuest(0, portA, 64);
             TestNetGuest b = new TestNetGuest(0, portB, 64)) {
            bridge.setCapture(capture);
            b.postReceiveBuffers(0, 8, 2048);
            for (int i = 0; i < 3; i++) {
                a.transmit(null, TestNetGuest.ethernetFrame(MAC_B, MAC_A, 100 + i, i), false);
            }
            a.pollUntilIdle(5);
            b.pollUntilIdle(5);
            capture.flush();
            return capture.recorded();
        }
    }

    @Test
    void journalsBothDirectionsAndExportsAReadablePcap(@TempDir final Path directory) throws IOException {
        final Path journal = directory.resolve("journal");
        assertEquals(6, captureTwoGuests(journal), "3 frames in from port a, 3 out of port b");
        final Path pcap = directory.resolve("out.pcap");
        assertEquals(6, PcapExporter.export(journal, pcap, PcapExporter.Format.PCAP, null));
        final ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(pcap)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xA1B23C4D, file.getInt(0), "nanosecond pcap magic");
        assertEquals(1, file.getInt(20), "link type Ethernet");
        int at = 24;
        for (int i = 0; i < 6; i++) {
            final int included = file.getInt(at + 8);
            assertEquals(114 + i / 2, included, "frame " + i);
            assertEquals(included, file.getInt(at + 12));
            assertEquals(MAC_B[5], file.get(at + 16 + 5), "destination of frame " + i);
            at += 16 + included;
        }
        assertEquals(file.capacity(), at);
        assertEquals(3, PcapExporter.export(journal, directory.resolve("a.pcap"), PcapExporter.Format.PCAP, 0),
                "only port a's three frames");
    }

    @Test
    void tsharkReadsTheExportedPortsAndDirections(@TempDir final Path directory) {
        Requirements.requireCommand("tshark", "Wireshark's tshark (apt-get install tshark)");
        final Path journal = directory.resolve("journal");
        captureTwoGuests(journal);
        final Path pcapng = directory.resolve("out.pcapng");
        assertEquals(6, PcapExporter.export(journal, pcapng, PcapExporter.Format.PCAPNG, null));
        final String fields = Commands.run("tshark", "-r", pcapng.toString(), "-T", "fields", "-e", "frame.interface_name",
                "-e", "frame.packet_flags_direction", "-e", "frame.len", "-e", "eth.dst", "-e", "eth.src");
        final List<String> lines = fields.lines().filter(l -> l.startsWith("cap/")).toList();
        assertEquals(6, lines.size(), fields);
        assertEquals("cap/a\t0x00000001\t114\t02:00:00:00:00:0b\t02:00:00:00:00:0a", lines.getFirst(),
                "in through port a (inbound)");
        assertEquals("cap/b\t0x00000002\t114\t02:00:00:00:00:0b\t02:00:00:00:00:0a", lines.get(1),
                "out through port b (outbound)");
        final Path pcap = directory.resolve("out.pcap");
        PcapExporter.export(journal, pcap, PcapExporter.Format.PCAP, null);
        final String count = Commands.run("tshark", "-r", pcap.toString(), "-T", "fields", "-e", "frame.len");
        assertEquals(List.of("114", "114", "115", "115", "116", "116"),
                count.lines().filter(l -> l.matches("\\d+")).toList(), "tshark reads the classic pcap too");
    }
}
