package io.vioplane.pciremote;

import io.vioplane.platform.pci.ConfigSpace;
import io.vioplane.platform.pci.PciFunction;
import io.vioplane.platform.pci.PciRegisters;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.Epoll;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.ReceivedFds;
import io.vioplane.platform.sys.SysException;
import io.vioplane.platform.sys.UnixSockets;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Serves one {@link RemoteDevice} to one QEMU over a connected AF_UNIX stream socket (the remote end of
 * {@code -device x-pci-proxy-dev,fd=N}; message format in {@link MpqemuMessage}):
 *
 * <pre>
 *   SYNC_SYSMEM   map the regions, publish them as the device's DMA space, unmap the old ones ({@link RemoteGuestMemory})
 *   SET_IRQFD     the INTx pin's irqfd and resample fd ({@link RemoteIntx})
 *   PCI_CFGREAD   RET the function's config space at addr (1, 2 or 4 bytes, naturally aligned, below 4 KiB)
 *   PCI_CFGWRITE  write through the config space's masks; RET 0
 *   BAR_READ      find the BAR of that space holding [addr, addr + size); RET the handler's value
 *   BAR_WRITE     likewise; RET 0
 *   DEVICE_RESET  reset the device and its config space; RET 0
 * </pre>
 *
 * A malformed message (unknown command, wrong size, wrong descriptor count) is refused and counted; if its command
 * waits for a reply it gets RET all ones (QEMU's error value), so QEMU never hangs on us. A header announcing more
 * than 192 bytes of data ends the connection: the stream cannot be resynchronised. Accesses outside the config space
 * or any BAR read all ones and write nothing.
 *
 * <p>One thread runs {@link #serve()}: the requests, the resample fd and the device's {@link RemoteDevice#poll} (at
 * least every {@value #IDLE_POLL_MS} ms, sooner when the device has a deadline). {@link #stop()} from any thread ends
 * it. Nothing is allocated per BAR access.
 */
public final class MpqemuServer implements AutoCloseable {
    /** The longest the server waits for QEMU before giving the device's {@link RemoteDevice#poll} a turn. */
    public static final int IDLE_POLL_MS = 10;
    private static final long ALL_ONES = -1L;
    private static final long SOCKET = 0;
    private static final long RESAMPLE = 1;

    private final int socketFd;
    private final RemoteDevice device;
    private final PciFunction function;
    private final RemoteGuestMemory memory;
    private final RemoteIntx intx;
    private final CounterSet<MpqemuCounter> counters;
    private final ErrorLog log;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment message = arena.allocate(MpqemuMessage.HEADER_BYTES + MpqemuMessage.MAX_DATA_BYTES, 8);
    private final MemorySegment data = message.asSlice(MpqemuMessage.HEADER_BYTES);
    private final MemorySegment reply = arena.allocate(MpqemuMessage.HEADER_BYTES + MpqemuMessage.RET_BYTES, 8);
    private final ReceivedFds fds = new ReceivedFds();
    private final long[] gpas = new long[MpqemuMessage.MAX_FDS];
    private final long[] sizes = new long[MpqemuMessage.MAX_FDS];
    private final long[] offsets = new long[MpqemuMessage.MAX_FDS];
    private final int[] regionFds = new int[MpqemuMessage.MAX_FDS];
    private final byte[] powerOnConfig = new byte[ConfigSpace.SIZE_BYTES];
    private volatile boolean stopping;
    private boolean closed;

    /**
     * @param socketFd the connected socket; the server owns it from now on
     * @param device   what is served
     * @param memory   the DMA space the device was built over; the server fills it and closes it
     * @param intx     the pin the device drives; the server connects it and closes it
     */
    public MpqemuServer(final int socketFd, final RemoteDevice device, final RemoteGuestMemory memory,
                        final RemoteIntx intx, final CounterSet<MpqemuCounter> counters, final ErrorLog log) {
        this.socketFd = socketFd;
        this.device = device;
        this.function = device.function();
        this.memory = memory;
        this.intx = intx;
        this.counters = counters;
        this.log = log;
        for (int offset = 0; offset < ConfigSpace.SIZE_BYTES; offset++) {
            powerOnConfig[offset] = (byte) function.config().get(offset, 1);
        }
    }

    /**
     * Serves until QEMU closes the connection, sends a header that cannot be framed, or {@link #stop()} is called.
     *
     * @return why serving ended, for the caller's log
     */
    public String serve() {
        try (Epoll epoll = new Epoll(4)) {
            epoll.add(socketFd, Epoll.EPOLLIN, SOCKET);
            int watchedResample = -1;
            while (!stopping) {
                final int ready = epoll.await(timeoutMs());
                for (int i = 0; i < ready; i++) {
                    if (epoll.data(i) == RESAMPLE) {
                        intx.resampled();
                        continue;
                    }
                    final String ended = handleMessage();
                    if (ended != null) {
                        return ended;
                    }
                    if (intx.resampleFd() != watchedResample) {
                        if (watchedResample >= 0) {
                            quietlyRemove(epoll, watchedResample);
                        }
                        watchedResample = intx.resampleFd();
                        if (watchedResample >= 0) {
                            epoll.add(watchedResample, Epoll.EPOLLIN, RESAMPLE);
                        }
                    }
                }
                device.poll();
            }
            return "stopped";
        } catch (SysException e) {
            return stopping ? "stopped" : "connection failed: " + e.getMessage();
        } finally {
            fds.closeAll();
        }
    }

    private int timeoutMs() {
        final long deadline = device.nextDeadlineNs();
        if (deadline == Long.MAX_VALUE) {
            return IDLE_POLL_MS;
        }
        final long waitNs = deadline - System.nanoTime();
        return waitNs <= 0 ? 0 : (int) Math.min(IDLE_POLL_MS, (waitNs + 999_999) / 1_000_000);
    }

    private static void quietlyRemove(final Epoll epoll, final int fd) {
        try {
            epoll.remove(fd);
        } catch (SysException ignored) {
            // Closed already: the kernel dropped the registration with the descriptor.
        }
    }

    /** @return null to go on serving, else why the connection ends */
    private String handleMessage() {
        fds.closeAll();
        final long header = UnixSockets.receiveFully(socketFd, message, MpqemuMessage.HEADER_BYTES, fds);
        if (header == 0) {
            return "QEMU closed the connection";
        }
        if (header < MpqemuMessage.HEADER_BYTES) {
            return "QEMU closed the connection in the middle of a message header";
        }
        final int cmd = MpqemuMessage.cmd(message);
        final long size = MpqemuMessage.size(message);
        if (size < 0 || size > MpqemuMessage.MAX_DATA_BYTES) {
            counters.increment(MpqemuCounter.MALFORMED_MESSAGE);
            log.failure("mpqemu: QEMU announced " + Long.toUnsignedString(size) + " bytes of data (at most "
                    + MpqemuMessage.MAX_DATA_BYTES + "): closing the connection");
            return "QEMU sent a message that cannot be framed";
        }
        if (size > 0 && UnixSockets.receiveFully(socketFd, data, size, fds) < size) {
            return "QEMU closed the connection in the middle of a message";
        }
        final String refusal = MpqemuMessage.refusal(cmd, size, fds.count());
        if (refusal != null) {
            counters.increment(MpqemuCounter.MALFORMED_MESSAGE);
            log.failure("mpqemu: refused a message from QEMU: " + refusal);
            fds.closeAll();
            if (cmd == MpqemuMessage.PCI_CFGREAD || cmd == MpqemuMessage.PCI_CFGWRITE
                    || cmd == MpqemuMessage.BAR_READ || cmd == MpqemuMessage.BAR_WRITE
                    || cmd == MpqemuMessage.DEVICE_RESET) {
                reply(ALL_ONES);
            }
            return null;
        }
        final long result;
        try {
            result = switch (cmd) {
                case MpqemuMessage.SYNC_SYSMEM -> syncSysmem();
                case MpqemuMessage.SET_IRQFD -> {
                    intx.connect(fds.take(0), fds.take(1));
                    yield 0;
                }
                case MpqemuMessage.PCI_CFGREAD -> configRead();
                case MpqemuMessage.PCI_CFGWRITE -> configWrite();
                case MpqemuMessage.BAR_READ -> barAccess(false);
                case MpqemuMessage.BAR_WRITE -> barAccess(true);
                case MpqemuMessage.DEVICE_RESET -> reset();
                default -> throw new IllegalStateException("refusal() admits command " + cmd);
            };
        } catch (SysException e) {
            throw e;
        } catch (RuntimeException e) {
            log.onError(e);
            if (cmd != MpqemuMessage.SYNC_SYSMEM && cmd != MpqemuMessage.SET_IRQFD) {
                reply(ALL_ONES);
            }
            return null;
        } finally {
            fds.closeAll();
        }
        if (cmd != MpqemuMessage.SYNC_SYSMEM && cmd != MpqemuMessage.SET_IRQFD) {
            reply(result);
        }
        return null;
    }

    private long syncSysmem() {
        counters.increment(MpqemuCounter.MEMORY_SYNCS);
        final int count = fds.count();
        for (int i = 0; i < count; i++) {
            gpas[i] = data.get(JAVA_LONG_UNALIGNED, MpqemuMessage.SYSMEM_GPAS + 8L * i);
            sizes[i] = data.get(JAVA_LONG_UNALIGNED, MpqemuMessage.SYSMEM_SIZES + 8L * i);
            offsets[i] = data.get(JAVA_LONG_UNALIGNED, MpqemuMessage.SYSMEM_OFFSETS + 8L * i);
            regionFds[i] = fds.take(i);
        }
        final String refusal = memory.replace(gpas, sizes, offsets, regionFds, count);
        if (refusal != null) {
            log.failure("mpqemu: refused QEMU's guest memory table (the previous one stays): " + refusal);
        }
        return 0;
    }

    private long configRead() {
        counters.increment(MpqemuCounter.CONFIG_READS);
        final int address = data.get(JAVA_INT_UNALIGNED, MpqemuMessage.CONFIG_ADDR);
        final int length = data.get(JAVA_INT_UNALIGNED, MpqemuMessage.CONFIG_LEN);
        if (!ConfigSpace.wellFormed(address, length)) {
            counters.increment(MpqemuCounter.BAD_CONFIG_ACCESS);
            return ALL_ONES;
        }
        return function.readConfig(address, length) & mask(length);
    }

    private long configWrite() {
        counters.increment(MpqemuCounter.CONFIG_WRITES);
        final int address = data.get(JAVA_INT_UNALIGNED, MpqemuMessage.CONFIG_ADDR);
        final int value = data.get(JAVA_INT_UNALIGNED, MpqemuMessage.CONFIG_VAL);
        final int length = data.get(JAVA_INT_UNALIGNED, MpqemuMessage.CONFIG_LEN);
        if (!function.writeConfig(address, length, value)) {
            counters.increment(MpqemuCounter.BAD_CONFIG_ACCESS);
            return ALL_ONES;
        }
        return 0;
    }

    private long barAccess(final boolean write) {
        counters.increment(write ? MpqemuCounter.BAR_WRITES : MpqemuCounter.BAR_READS);
        final long address = data.get(JAVA_LONG_UNALIGNED, MpqemuMessage.BAR_ADDR);
        final long value = data.get(JAVA_LONG_UNALIGNED, MpqemuMessage.BAR_VAL);
        final int sizeBytes = data.get(JAVA_INT_UNALIGNED, MpqemuMessage.BAR_SIZE);
        final boolean memorySpace = data.get(JAVA_BYTE, MpqemuMessage.BAR_MEMORY) != 0;
        if (sizeBytes == 1 || sizeBytes == 2 || sizeBytes == 4 || sizeBytes == 8) {
            for (int bar = 0; bar < PciRegisters.BAR_COUNT; bar++) {
                final long barBytes = function.barSize(bar);
                if (barBytes == 0 || function.barIsIo(bar) == memorySpace) {
                    continue;
                }
                final long offset = address - function.barAddress(bar);
                if (Long.compareUnsigned(offset, barBytes) < 0 && offset + sizeBytes <= barBytes) {
                    if (write) {
                        function.barHandler().write(bar, offset, sizeBytes, value & mask(sizeBytes));
                        return 0;
                    }
                    return function.barHandler().read(bar, offset, sizeBytes) & mask(sizeBytes);
                }
            }
        }
        counters.increment(MpqemuCounter.BAR_ACCESS_OUTSIDE_BARS);
        return write ? 0 : ALL_ONES;
    }

    private long reset() {
        counters.increment(MpqemuCounter.RESETS);
        for (int offset = 0; offset < ConfigSpace.SIZE_BYTES; offset++) {
            function.config().set(offset, 1, powerOnConfig[offset]);
        }
        device.reset();
        return 0;
    }

    private void reply(final long value) {
        MpqemuMessage.ret(reply, value);
        UnixSockets.sendFully(socketFd, reply, reply.byteSize());
    }

    private static long mask(final int sizeBytes) {
        return sizeBytes >= 8 ? -1L : (1L << (8 * sizeBytes)) - 1;
    }

    /** Ends {@link #serve()} from any thread (shuts the socket down). */
    public void stop() {
        stopping = true;
        UnixSockets.shutdownQuietly(socketFd);
    }

    /** Closes the socket, unmaps guest memory, closes the interrupt descriptors. Call after {@link #serve()} returned. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopping = true;
        FileIo.closeQuietly(socketFd);
        intx.close();
        memory.close();
        arena.close();
    }
}
