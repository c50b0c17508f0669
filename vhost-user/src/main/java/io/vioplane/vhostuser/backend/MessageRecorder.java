package io.vioplane.vhostuser.backend;

import io.vioplane.vhostuser.protocol.VhostUserMessage;
import io.vioplane.vhostuser.protocol.VhostUserRequest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;

/**
 * Records every request front-ends send to the daemon's back-ends, and what each back-end did with it, as one text
 * line per request: {@code cK NAME flags=0xF fds=N payload=HEX -> ok|refused: why}, where {@code K} numbers the
 * connection (a line {@code # connected cK} starts each; connections of several sockets interleave). A recording
 * made against a real front-end (QEMU, DPDK) is replayed by the project's tests with fresh descriptors in place of
 * the ones that came with it, so the sequences that the real peers send stay accepted. The daemon writes one with
 * {@code --record-protocol FILE}; the control-plane thread writes it, never the data plane.
 */
public final class MessageRecorder implements AutoCloseable {
    private static final HexFormat HEX = HexFormat.of();

    private final Writer out;
    private int connections;

    private MessageRecorder(final Writer out) {
        this.out = out;
    }

    /** @return a recorder appending to {@code file} (created if absent) */
    public static MessageRecorder appendingTo(final Path file) {
        try {
            return new MessageRecorder(Files.newBufferedWriter(file, StandardCharsets.US_ASCII,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("--record-protocol: " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Marks the start of a front-end's connection, so a replay can tell connections apart.
     *
     * @return the connection's number, for {@link #record}
     */
    public synchronized int connected() {
        final int connection = ++connections;
        write("# connected c" + connection + "\n");
        return connection;
    }

    /**
     * Records {@code request} of connection {@code connection}, the number of descriptors that came with it, and
     * its outcome: {@code refusal} null if it was accepted, else why it was refused.
     */
    public synchronized void record(final int connection, final VhostUserMessage request, final int fdCount,
                                    final String refusal) {
        final byte[] payload = request.payload().toArray(ValueLayout.JAVA_BYTE);
        write("c" + connection + " " + VhostUserRequest.name(request.request()) + " flags=0x"
                + Integer.toHexString(request.flags()) + " fds=" + fdCount + " payload=" + HEX.formatHex(payload)
                + " -> " + (refusal == null ? "ok" : "refused: " + refusal.replace('\n', ' ')) + "\n");
    }

    private void write(final String line) {
        try {
            out.write(line);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing the protocol recording", e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the protocol recording", e);
        }
    }
}
