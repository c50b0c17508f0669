package io.vioplane.pciremote;

import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.ReceivedFds;
import io.vioplane.platform.sys.UnixSockets;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * QEMU's proxy side of mpqemu, as a test peer: builds the messages x-pci-proxy-dev sends (hw/remote/proxy.c,
 * proxy-memory-listener.c) and reads the RET replies. Also sends whatever a hostile peer might.
 */
final class FakeQemu implements AutoCloseable {
    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = arena.allocate(4096, 8);
    private final ReceivedFds received = new ReceivedFds();

    FakeQemu(final int fd) {
        this.fd = fd;
    }

    int fd() {
        return fd;
    }

    /** Sends a header of {@code cmd} announcing {@code size}, then {@code payload}, with {@code fds}. */
    void send(final int cmd, final long size, final byte[] payload, final int... fds) {
        buffer.fill((byte) 0);
        buffer.set(JAVA_INT_UNALIGNED, 0, cmd);
        buffer.set(JAVA_LONG_UNALIGNED, 8, size);
        MemorySegment.copy(payload, 0, buffer, JAVA_BYTE, 16, payload.length);
        final long total = 16 + payload.length;
        long sent = UnixSockets.send(fd, buffer, total, fds, fds.length, 0);
        if (sent < total) {
            UnixSockets.sendFully(fd, buffer.asSlice(sent), total - sent);
        }
    }

    /** @return the value of the RET that answers the last request */
    long awaitReturn() {
        final MemorySegment reply = buffer.asSlice(0, 24);
        if (UnixSockets.receiveFully(fd, reply, 24, received) != 24) {
            throw new IllegalStateException("the remote closed the connection instead of replying");
        }
        received.closeAll();
        if (reply.get(JAVA_INT_UNALIGNED, 0) != MpqemuMessage.RET || reply.get(JAVA_LONG_UNALIGNED, 8) != 8) {
            throw new IllegalStateException("not a RET: cmd " + reply.get(JAVA_INT_UNALIGNED, 0));
        }
        return reply.get(JAVA_LONG_UNALIGNED, 16);
    }

    /** @return true if the remote closed the connection (a read returns end of file) */
    boolean remoteClosed() {
        return UnixSockets.receiveFully(fd, buffer, 1, received) == 0;
    }

    static byte[] config(final int address, final int value, final int length) {
        final byte[] bytes = new byte[12];
        final MemorySegment segment = MemorySegment.ofArray(bytes);
        segment.set(JAVA_INT_UNALIGNED, 0, address);
        segment.set(JAVA_INT_UNALIGNED, 4, value);
        segment.set(JAVA_INT_UNALIGNED, 8, length);
        return bytes;
    }

    static byte[] bar(final long address, final long value, final int size, final boolean memory) {
        final byte[] bytes = new byte[24];
        final MemorySegment segment = MemorySegment.ofArray(bytes);
        segment.set(JAVA_LONG_UNALIGNED, 0, address);
        segment.set(JAVA_LONG_UNALIGNED, 8, value);
        segment.set(JAVA_INT_UNALIGNED, 16, size);
        segment.set(JAVA_BYTE, 20, (byte) (memory ? 1 : 0));
        return bytes;
    }

    static byte[] sysmem(final long[] gpas, final long[] sizes, final long[] offsets) {
        final byte[] bytes = new byte[192];
        final MemorySegment segment = MemorySegment.ofArray(bytes);
        for (int i = 0; i < gpas.length; i++) {
            segment.set(JAVA_LONG_UNALIGNED, 8L * i, gpas[i]);
            segment.set(JAVA_LONG_UNALIGNED, 64 + 8L * i, sizes[i]);
            segment.set(JAVA_LONG_UNALIGNED, 128 + 8L * i, offsets[i]);
        }
        return bytes;
    }

    long configRead(final int address, final int length) {
        send(MpqemuMessage.PCI_CFGREAD, 12, config(address, 0, length));
        return awaitReturn();
    }

    long configWrite(final int address, final int value, final int length) {
        send(MpqemuMessage.PCI_CFGWRITE, 12, config(address, value, length));
        return awaitReturn();
    }

    long barRead(final long address, final int size, final boolean memory) {
        send(MpqemuMessage.BAR_READ, 24, bar(address, 0, size, memory));
        return awaitReturn();
    }

    long barWrite(final long address, final long value, final int size, final boolean memory) {
        send(MpqemuMessage.BAR_WRITE, 24, bar(address, value, size, memory));
        return awaitReturn();
    }

    @Override
    public void close() {
        received.closeAll();
        FileIo.closeQuietly(fd);
        arena.close();
    }
}
