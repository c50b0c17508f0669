package io.vioplane.tap.device;

import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.Ioctl;
import io.vioplane.platform.sys.IoVecArray;
import io.vioplane.platform.sys.SysException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One queue of a Linux TAP device (tuntap.rst): a non-blocking descriptor on /dev/net/tun attached to a named
 * interface with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, so that every frame read or written starts with the
 * 12-byte virtio-net header (TUNSETVNETHDRSZ 12) and large TCP segments cross without being split when the
 * offloads allow it (TUNSETOFFLOAD).
 *
 * <p>An existing interface of that name is attached (a persistent TAP made with {@code ip tuntap add}); otherwise
 * the kernel creates one that disappears when its last queue closes. With IFF_MULTI_QUEUE, each
 * {@link #open} of the same name adds a queue. Each read or write moves one frame (the TAP character device
 * has no batched form from user space); callers process bursts per wake-up.
 */
public final class TapDevice implements AutoCloseable {
    /** The virtio-net header size on this TAP. */
    public static final int VNET_HEADER_BYTES = 12;
    /** TUN_F_* offload bits for {@link #setOffloads}. */
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_TSO_ECN = 0x08;
    public static final int TUN_F_UFO = 0x10;

    private static final long TUNSETIFF = 0x400454CAL;
    private static final long TUNSETOFFLOAD = 0x400454D0L;
    private static final long TUNSETVNETHDRSZ = 0x400454D8L;
    private static final short IFF_TAP = 0x0002;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_VNET_HDR = 0x4000;
    private static final short IFF_MULTI_QUEUE = 0x0100;
    private static final int IFNAMSIZ = 16;

    private final String name;
    private final int fd;
    private final boolean multiQueue;
    private boolean closed;

    private TapDevice(final String name, final int fd, final boolean multiQueue) {
        this.name = name;
        this.fd = fd;
        this.multiQueue = multiQueue;
    }

    /**
     * Opens (and if needed creates) the TAP interface {@code name}, or one more queue of it.
     *
     * @throws SysException naming the call, e.g. EBUSY when the interface exists with other flags, EPERM
     *     without CAP_NET_ADMIN
     * @throws IllegalArgumentException if the name is not a valid interface name
     */
    public static TapDevice open(final String name, final boolean multiQueue) {
        final byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length == 0 || nameBytes.length >= IFNAMSIZ || name.contains("/") || name.contains(" ")) {
            throw new IllegalArgumentException("not an interface name (1.." + (IFNAMSIZ - 1) + " characters): " + name);
        }
        final int fd = FileIo.open("/dev/net/tun", FileIo.O_RDWR | FileIo.O_NONBLOCK);
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment ifreq = arena.allocate(40);
            MemorySegment.copy(nameBytes, 0, ifreq, ValueLayout.JAVA_BYTE, 0, nameBytes.length);
            ifreq.set(ValueLayout.JAVA_SHORT, IFNAMSIZ,
                    (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0)));
            Ioctl.invoke(fd, TUNSETIFF, ifreq, "TUNSETIFF " + name);
            final MemorySegment headerSize = arena.allocateFrom(ValueLayout.JAVA_INT, VNET_HEADER_BYTES);
            Ioctl.invoke(fd, TUNSETVNETHDRSZ, headerSize, "TUNSETVNETHDRSZ");
            return new TapDevice(name, fd, multiQueue);
        } catch (RuntimeException e) {
            FileIo.closeQuietly(fd);
            throw e;
        }
    }

    /** @return the interface name */
    public String name() {
        return name;
    }

    /** @return the queue's descriptor (for epoll) */
    public int fd() {
        return fd;
    }

    /** @return true if opened with IFF_MULTI_QUEUE */
    public boolean multiQueue() {
        return multiQueue;
    }

    /**
     * Tells the kernel which offloads the reader (our guest) can take: with TUN_F_CSUM frames may arrive with
     * a checksum to complete, with TUN_F_TSO4/6 as large TCP segments (TUNSETOFFLOAD).
     */
    public void setOffloads(final int tunFlags) {
        Ioctl.invoke(fd, TUNSETOFFLOAD, tunFlags, "TUNSETOFFLOAD " + name);
    }

    /**
     * Reads one frame with its virtio-net header into {@code buffer}.
     *
     * @return bytes read (header included), or {@link FileIo#WOULD_BLOCK} if none waits
     */
    public long read(final MemorySegment buffer, final long capacityBytes) {
        return FileIo.read(fd, buffer, capacityBytes);
    }

    /**
     * Writes one frame gathered from the first {@code count} entries of {@code iov} (its virtio-net header first).
     *
     * @return bytes written, or {@link FileIo#WOULD_BLOCK} if the TAP's queue is full
     */
    public long write(final IoVecArray iov, final int count) {
        return FileIo.writev(fd, iov, count);
    }

    /** @return true if the interface exists and is administratively and operationally able to carry frames */
    public static boolean isUp(final String name) {
        final Path operstate = Path.of("/sys/class/net", name, "operstate");
        try {
            final String state = Files.readString(operstate).trim();
            return !state.equals("down") && !state.equals("notpresent") && !state.equals("lowerlayerdown");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** @return true if an interface of this name exists */
    public static boolean exists(final String name) {
        return Files.isDirectory(Path.of("/sys/class/net", name));
    }

    /** Closes the queue; a non-persistent TAP disappears with its last queue. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            FileIo.closeQuietly(fd);
        }
    }

    @Override
    public String toString() {
        return "TapDevice[" + name + ", fd=" + fd + (multiQueue ? ", multi-queue" : "") + "]";
    }
}
