package io.vioplane.tap.capture;

import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptTailer;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns a capture journal into a file Wireshark and tshark read: classic pcap (nanosecond timestamps, magic
 * 0xA1B23C4D, link type 1 Ethernet) or pcapng (one interface per capturing port, named after it, and each packet's
 * direction in its enhanced packet block's flags: pcapng draft, "epb_flags").
 */
public final class PcapExporter {
    /** Which file format to write. */
    public enum Format {
        /** libpcap's classic format. */
        PCAP,
        /** pcapng, with port names and directions. */
        PCAPNG
    }

    private static final int LINKTYPE_ETHERNET = 1;
    private static final int SNAP_BYTES = 262144;

    private PcapExporter() {
    }

    /** @return frames exported from the journal in {@code directory} to {@code file} */
    public static long export(final Path directory, final Path file, final Format format, final Integer onlyPort) {
        if (!hasJournal(directory)) {
            throw new IllegalArgumentException("no capture journal in " + directory);
        }
        try (ChronicleQueue queue = ChronicleQueue.singleBuilder(directory).readOnly(true).build();
             OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            final Writer writer = format == Format.PCAP ? new PcapWriter(out) : new PcapngWriter(out);
            writer.start();
            final ExcerptTailer tailer = queue.createTailer();
            final long[] frames = {0};
            final Map<Integer, String> names = new HashMap<>();
            while (tailer.readBytes(bytes -> {
                final int type = bytes.readInt();
                final int length = bytes.readInt();
                final byte[] message = new byte[length];
                bytes.read(message);
                final ByteBuffer record = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
                if (type == CaptureRecord.PORT_NAME_TYPE) {
                    names.put(record.getShort(0) & 0xFFFF, new String(message, 2, length - 2, StandardCharsets.UTF_8));
                    return;
                }
                final int port = record.getShort(CaptureRecord.PORT) & 0xFFFF;
                if (onlyPort != null && port != onlyPort) {
                    return;
                }
                writer.packet(record.getLong(CaptureRecord.TIMESTAMP), port, names.getOrDefault(port, "port-" + port),
                        record.get(CaptureRecord.DIRECTION), record.getInt(CaptureRecord.ORIGINAL_LENGTH), message,
                        CaptureRecord.DATA, length - CaptureRecord.DATA);
                frames[0]++;
            })) {
                // each iteration exported one record
            }
            return frames[0];
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** @return true if {@code directory} holds at least one Chronicle Queue cycle file ({@code *.cq4}) */
    public static boolean hasJournal(final Path directory) {
        if (!Files.isDirectory(directory)) {
            return false;
        }
        try (java.util.stream.Stream<Path> files = Files.list(directory)) {
            return files.anyMatch(file -> file.getFileName().toString().endsWith(".cq4"));
        } catch (IOException e) {
            return false;
        }
    }

    private interface Writer {
        void start();

        void packet(long timestampNs, int port, String portName, int direction, int originalLength, byte[] data,
                    int offset, int length);
    }

    private static void write(final OutputStream out, final ByteBuffer buffer) {
        try {
            out.write(buffer.array(), 0, buffer.position());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(final OutputStream out, final byte[] data, final int offset, final int length) {
        try {
            out.write(data, offset, length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class PcapWriter implements Writer {
        private final OutputStream out;

        PcapWriter(final OutputStream out) {
            this.out = out;
        }

        @Override
        public void start() {
            final ByteBuffer header = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(0xA1B23C4D).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(SNAP_BYTES)
                    .putInt(LINKTYPE_ETHERNET);
            write(out, header);
        }

        @Override
        public void packet(final long timestampNs, final int port, final String portName, final int direction,
                           final int originalLength, final byte[] data, final int offset, final int length) {
            final ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt((int) (timestampNs / 1_000_000_000L)).putInt((int) (timestampNs % 1_000_000_000L))
                    .putInt(length).putInt(originalLength);
            write(out, header);
            write(out, data, offset, length);
        }
    }

    private static final class PcapngWriter implements Writer {
        private final OutputStream out;
        private final Map<Integer, Integer> interfaces = new HashMap<>();

        PcapngWriter(final OutputStream out) {
            this.out = out;
        }

        private static int pad4(final int length) {
            return (length + 3) & ~3;
        }

        @Override
        public void start() {
            final ByteBuffer block = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
            block.putInt(0x0A0D0D0A).putInt(28).putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0)
                    .putLong(-1L).putInt(28);
            write(out, block);
        }

        private int interfaceFor(final int port, final String portName) {
            final Integer known = interfaces.get(port);
            if (known != null) {
                return known;
            }
            final byte[] name = portName.getBytes(StandardCharsets.UTF_8);
            final int nameOption = 4 + pad4(name.length);
            final int resolutionOption = 4 + 4;
            final int total = 16 + nameOption + resolutionOption + 4 + 4;
            final ByteBuffer block = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
            block.putInt(1).putInt(total).putShort((short) LINKTYPE_ETHERNET).putShort((short) 0).putInt(SNAP_BYTES);
            block.putShort((short) 2).putShort((short) name.length).put(name);
            block.position(block.position() + pad4(name.length) - name.length);
            block.putShort((short) 9).putShort((short) 1).put((byte) 9).put(new byte[3]);
            block.putShort((short) 0).putShort((short) 0);
            block.putInt(total);
            write(out, block);
            final int id = interfaces.size();
            interfaces.put(port, id);
            return id;
        }

        @Override
        public void packet(final long timestampNs, final int port, final String portName, final int direction,
                           final int originalLength, final byte[] data, final int offset, final int length) {
            final int id = interfaceFor(port, portName);
            final int total = 28 + pad4(length) + 8 + 4 + 4;
            final ByteBuffer block = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
            block.putInt(6).putInt(total).putInt(id).putInt((int) (timestampNs >>> 32)).putInt((int) timestampNs)
                    .putInt(length).putInt(originalLength);
            block.put(data, offset, length);
            block.position(block.position() + pad4(length) - length);
            final int flags = direction == CaptureRecord.DIRECTION_IN ? 1 : direction == CaptureRecord.DIRECTION_OUT ? 2 : 0;
            block.putShort((short) 2).putShort((short) 4).putInt(flags);
            block.putShort((short) 0).putShort((short) 0);
            block.putInt(total);
            write(out, block);
        }
    }
}
