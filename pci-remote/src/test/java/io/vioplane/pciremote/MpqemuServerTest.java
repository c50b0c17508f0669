package io.vioplane.pciremote;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.platform.pci.PciFunction;
import io.vioplane.platform.pci.PciRegisters;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.platform.testing.OpenFds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The remote side of mpqemu against a peer that speaks as QEMU 7.2's x-pci-proxy-dev does, and as a hostile one
 * might: every reply, every refusal, every descriptor closed.
 */
class MpqemuServerTest {
    private static final long ALL_ONES = -1L;
    private static final long BAR0_GPA = 0xFEB0_0000L;
    private static final int BAR1_PORT = 0xC000;
    private static final int DMA_REGISTER = 0x100;
    private static final int LEVEL_REGISTER = 0x108;

    private final CounterSet<MpqemuCounter> counters = CounterSet.unpublished(MpqemuCounter.class);
    private final List<String> logLines = new ArrayList<>();
    private final RemoteGuestMemory memory = new RemoteGuestMemory(counters);
    private final RemoteIntx intx = new RemoteIntx(counters);
    private final TestDevice device = new TestDevice();
    private GuestMemory guest;
    private MpqemuServer server;
    private CompletableFuture<String> serving;
    private FakeQemu qemu;

    /** A function with a 4 KiB memory BAR0 and a 32-port I/O BAR1; a write at 0x100 of BAR0 reads guest memory. */
    private final class TestDevice implements RemoteDevice, PciFunction.BarHandler {
        final PciFunction function = new PciFunction(0x1AF4, 0x10F0, 0x020000, 1);
        final List<String> writes = new ArrayList<>();
        long dmaValue;
        int resets;

        TestDevice() {
            function.memoryBar(0, 0x1000, false);
            function.ioBar(1, 0x20);
            function.config().set(PciRegisters.INTERRUPT_PIN, 1, 1);
            function.barHandler(this);
        }

        @Override
        public PciFunction function() {
            return function;
        }

        @Override
        public void reset() {
            resets++;
        }

        @Override
        public long read(final int bar, final long offset, final int sizeBytes) {
            return bar == 0 && offset == DMA_REGISTER ? dmaValue : (long) bar << 16 | offset;
        }

        @Override
        public void write(final int bar, final long offset, final int sizeBytes, final long value) {
            writes.add(bar + "+" + offset + "=" + Long.toHexString(value));
            if (bar == 0 && offset == DMA_REGISTER) {
                dmaValue = memory.getLong(value);
            } else if (bar == 0 && offset == LEVEL_REGISTER) {
                intx.set(value != 0);
            }
        }
    }

    @BeforeEach
    void start() {
        final int[] pair = UnixSockets.socketPair();
        qemu = new FakeQemu(pair[0]);
        guest = GuestMemory.ofMemFd(0, 1 << 20);
        server = new MpqemuServer(pair[1], device, memory, intx, counters, ErrorLog.printingTo(logLines::add));
        serving = CompletableFuture.supplyAsync(server::serve);
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
        serving.get(30, TimeUnit.SECONDS);
        server.close();
        qemu.close();
        guest.close();
    }

    private void placeBars() {
        qemu.configWrite(PciRegisters.BAR0, (int) BAR0_GPA, 4);
        qemu.configWrite(PciRegisters.BAR0 + 4, BAR1_PORT, 4);
        qemu.configWrite(PciRegisters.COMMAND, PciRegisters.COMMAND_MEMORY | PciRegisters.COMMAND_IO, 2);
    }

    private void syncMemory(final long gpa, final long size, final long offset) {
        qemu.send(MpqemuMessage.SYNC_SYSMEM, 192, FakeQemu.sysmem(new long[] {gpa}, new long[] {size},
                new long[] {offset}), guest.regions().get(0).fd());
    }

    /** A request with a reply after a message without one: when it returns, the server has handled both. */
    private void barrier() {
        qemu.configRead(0, 2);
    }

    @Test
    void answersTheProbeQemuMakesWhenTheProxyIsRealized() {
        assertEquals(0x1AF4, qemu.configRead(PciRegisters.VENDOR_ID, 2));
        assertEquals(0x10F0, qemu.configRead(PciRegisters.DEVICE_ID, 2));
        assertEquals(0x0200, qemu.configRead(0x0A, 2), "class: network, Ethernet");
        assertEquals(0x10F0, qemu.configRead(PciRegisters.SUBSYSTEM_ID, 2));
        final long[] sizes = new long[6];
        for (int bar = 0; bar < 6; bar++) {
            final int register = PciRegisters.BAR0 + 4 * bar;
            final long original = qemu.configRead(register, 4);
            assertEquals(0, qemu.configWrite(register, 0xFFFF_FFFF, 4));
            sizes[bar] = qemu.configRead(register, 4);
            qemu.configWrite(register, (int) original, 4);
        }
        assertEquals(0xFFFF_F000L, sizes[0]);
        assertEquals(0xFFFF_FFE1L, sizes[1]);
        assertEquals(0, sizes[2] | sizes[3] | sizes[4] | sizes[5]);
        assertEquals(1, qemu.configRead(PciRegisters.INTERRUPT_PIN, 1));
        assertEquals(4 + 12 + 1, counters.get(MpqemuCounter.CONFIG_READS));
        assertEquals(12, counters.get(MpqemuCounter.CONFIG_WRITES));
    }

    @Test
    void barAccessesCarryAbsoluteAddressesAndReachTheBarOfTheirSpace() {
        placeBars();
        assertEquals(0x10, qemu.barRead(BAR0_GPA + 0x10, 4, true));
        assertEquals(1L << 16 | 4, qemu.barRead(BAR1_PORT + 4, 4, false));
        qemu.barWrite(BAR0_GPA + 0x20, 0x1_2345_6789L, 4, true);
        qemu.barWrite(BAR1_PORT, 0xAB, 1, false);
        assertEquals(List.of("0+32=23456789", "1+0=ab"), device.writes, "values are cut to the access size");
        assertEquals(0xFF, qemu.barRead(BAR0_GPA + 0xFFF, 1, true), "the last byte of the BAR, cut to one byte");
    }

    @Test
    void barAccessesOutsideEveryBarReadAllOnesAndWriteNothing() {
        placeBars();
        assertEquals(ALL_ONES, qemu.barRead(BAR0_GPA + 0xFFE, 4, true), "straddles the BAR's end");
        assertEquals(ALL_ONES, qemu.barRead(BAR0_GPA - 4, 4, true), "below the BAR");
        assertEquals(ALL_ONES, qemu.barRead(BAR0_GPA, 4, false), "memory address in I/O space");
        assertEquals(ALL_ONES, qemu.barRead(BAR1_PORT, 4, true), "port in memory space");
        assertEquals(ALL_ONES, qemu.barRead(BAR0_GPA, 3, true), "size 3");
        assertEquals(ALL_ONES, qemu.barRead(BAR0_GPA, 0, true), "size 0");
        qemu.barWrite(0xFFFF_FFFF_FFFF_FFFCL, 1, 8, true);
        assertEquals(7, counters.get(MpqemuCounter.BAR_ACCESS_OUTSIDE_BARS));
        assertTrue(device.writes.isEmpty());
    }

    @Test
    void configAccessesOfBadSizeAlignmentOrOffsetReadAllOnes() {
        assertEquals(ALL_ONES, qemu.configRead(0, 3));
        assertEquals(ALL_ONES, qemu.configRead(1, 2));
        assertEquals(ALL_ONES, qemu.configRead(4096, 4));
        assertEquals(ALL_ONES, qemu.configRead(-4, 4));
        assertEquals(ALL_ONES, qemu.configWrite(PciRegisters.COMMAND, 0xFFFF, 8));
        assertEquals(5, counters.get(MpqemuCounter.BAD_CONFIG_ACCESS));
        assertEquals(0, qemu.configRead(PciRegisters.COMMAND, 2));
    }

    @Test
    void theDeviceReachesGuestMemoryQemuSharedAndOldDescriptorsAreClosed() {
        placeBars();
        guest.putLong(0x2000, 0x1122_3344_5566_7788L);
        syncMemory(0, 1 << 20, 0);
        barrier();
        final int openAfterFirst = OpenFds.count();
        for (int i = 0; i < 20; i++) {
            syncMemory(0, 1 << 20, 0);
        }
        barrier();
        assertEquals(openAfterFirst, OpenFds.count(), "each new table closed the previous table's descriptor");
        qemu.barWrite(BAR0_GPA + DMA_REGISTER, 0x2000, 8, true);
        assertEquals(0x1122_3344_5566_7788L, qemu.barRead(BAR0_GPA + DMA_REGISTER, 8, true));
        syncMemory(0x1_0000_0000L, 0x10_0000 - 0x1000, 0x1000);
        barrier();
        qemu.barWrite(BAR0_GPA + DMA_REGISTER, 0x1_0000_1000L, 8, true);
        assertEquals(0x1122_3344_5566_7788L, qemu.barRead(BAR0_GPA + DMA_REGISTER, 8, true),
                "gpa 4 GiB + 0x1000 is file offset 0x2000");
        assertEquals(22, counters.get(MpqemuCounter.MEMORY_SYNCS));
        assertEquals(false, memory.sealed(), "GuestMemory.ofMemFd's file does not accept seals");
    }

    @Test
    void aMemoryTableThatIsEmptyWrapsOverlapsOrRunsPastItsFileIsRefusedWholeAndTheOldOneStays() {
        placeBars();
        guest.putLong(0x2000, 42);
        syncMemory(0, 1 << 20, 0);
        barrier();
        final int open = OpenFds.count();
        final int fd = guest.regions().get(0).fd();
        syncMemory(0, 2 << 20, 0);
        syncMemory(0, 0x1000, 1 << 20);
        syncMemory(0, 0, 0);
        syncMemory(-0x1000L, 0x2000, 0);
        syncMemory(0, 0x1000, Long.MAX_VALUE - 0x10);
        syncMemory(0, -4096L, 0);
        qemu.send(MpqemuMessage.SYNC_SYSMEM, 192, FakeQemu.sysmem(new long[] {0, 0x1000}, new long[] {0x2000, 0x2000},
                new long[] {0, 0}), fd, fd);
        barrier();
        assertEquals(7, counters.get(MpqemuCounter.BAD_MEMORY_TABLE));
        assertEquals(open, OpenFds.count(), "refused tables' descriptors were closed");
        qemu.barWrite(BAR0_GPA + DMA_REGISTER, 0x2000, 8, true);
        assertEquals(42, qemu.barRead(BAR0_GPA + DMA_REGISTER, 8, true), "the previous table is still in force");
    }

    @Test
    void dmaBeforeAnyMemoryTableIsRefusedAndCounted() {
        placeBars();
        qemu.barWrite(BAR0_GPA + DMA_REGISTER, 0x2000, 8, true);
        assertEquals(1, counters.get(MpqemuCounter.DMA_WITHOUT_MEMORY));
        assertTrue(logLines.stream().anyMatch(line -> line.contains("not shared guest memory yet")), logLines::toString);
        assertEquals(0x1AF4, qemu.configRead(0, 2), "the server serves on");
    }

    @Test
    void malformedMessagesAreRefusedAndRequestsStillGetAReply() {
        assertEquals(0x1AF4, qemu.configRead(0, 2), "the server is serving, its epoll descriptor open");
        final int open = OpenFds.count();
        try (EventFd stray = EventFd.create()) {
            qemu.send(MpqemuMessage.PCI_CFGREAD, 12, FakeQemu.config(0, 0, 2), stray.fd());
            assertEquals(ALL_ONES, qemu.awaitReturn(), "descriptors where none belong");
            qemu.send(MpqemuMessage.PCI_CFGREAD, 11, new byte[11]);
            assertEquals(ALL_ONES, qemu.awaitReturn(), "short config request");
            qemu.send(MpqemuMessage.BAR_READ, 16, new byte[16]);
            assertEquals(ALL_ONES, qemu.awaitReturn(), "short BAR request");
            qemu.send(MpqemuMessage.DEVICE_RESET, 8, new byte[8]);
            assertEquals(ALL_ONES, qemu.awaitReturn(), "reset with data");
            qemu.send(MpqemuMessage.RET, 8, new byte[8]);
            qemu.send(99, 4, new byte[4]);
            qemu.send(MpqemuMessage.SET_IRQFD, 0, new byte[0], stray.fd());
            qemu.send(MpqemuMessage.SYNC_SYSMEM, 192, new byte[192]);
            assertEquals(0x1AF4, qemu.configRead(0, 2), "replies stay in order after refused messages");
        }
        assertEquals(8, counters.get(MpqemuCounter.MALFORMED_MESSAGE));
        assertEquals(0, device.resets);
        assertEquals(open, OpenFds.count(), "every descriptor QEMU attached was closed");
    }

    @Test
    void aHeaderAnnouncingMoreThan192BytesEndsTheConnection() throws Exception {
        qemu.send(MpqemuMessage.BAR_READ, 193, new byte[0]);
        assertEquals("QEMU sent a message that cannot be framed", serving.get(30, TimeUnit.SECONDS));
        assertEquals(1, counters.get(MpqemuCounter.MALFORMED_MESSAGE));
    }

    @Test
    void aPeerThatClosesMidHeaderEndsServingWithoutHarm() throws Exception {
        qemu.send(MpqemuMessage.BAR_READ, 24, new byte[0]);
        UnixSockets.shutdownQuietly(qemu.fd());
        assertTrue(serving.get(30, TimeUnit.SECONDS).startsWith("QEMU closed the connection"));
    }

    @Test
    void theIrqfdIsSignalledOnARisingLevelAndAgainOnResampleWhileAsserted() {
        placeBars();
        try (EventFd irq = EventFd.create(0, EventFd.EFD_NONBLOCK); EventFd resample = EventFd.create()) {
            qemu.send(MpqemuMessage.SET_IRQFD, 0, new byte[0], irq.fd(), resample.fd());
            barrier();
            qemu.barWrite(BAR0_GPA + LEVEL_REGISTER, 1, 4, true);
            assertEquals(1, irq.drain());
            qemu.barWrite(BAR0_GPA + LEVEL_REGISTER, 1, 4, true);
            assertEquals(0, irq.drain(), "no new edge while the line stays high");
            resample.signal();
            long resignalled = 0;
            while (resignalled == 0) {
                barrier();
                resignalled = irq.drain();
            }
            assertEquals(1, resignalled, "the guest's EOI found the line still high");
            qemu.barWrite(BAR0_GPA + LEVEL_REGISTER, 0, 4, true);
            resample.signal();
            barrier();
            assertEquals(0, irq.drain());
            assertEquals(2, counters.get(MpqemuCounter.INTERRUPTS));
        }
    }

    @Test
    void deviceResetRestoresPowerOnConfigSpaceAndResetsTheDevice() {
        placeBars();
        assertEquals(0, qemu.barRead(BAR0_GPA + 0x10, 4, true) & ~0xFFFFL);
        qemu.send(MpqemuMessage.DEVICE_RESET, 0, new byte[0]);
        assertEquals(0, qemu.awaitReturn());
        assertEquals(1, device.resets);
        assertEquals(0, qemu.configRead(PciRegisters.COMMAND, 2));
        assertEquals(0, qemu.configRead(PciRegisters.BAR0, 4));
        assertEquals(1, qemu.configRead(PciRegisters.BAR0 + 4, 4), "only the I/O space bit is left");
        assertEquals(ALL_ONES, qemu.barRead(BAR0_GPA + 0x10, 4, true));
    }
}
