package io.vioplane.cli.daemon;

import io.vioplane.iommu.DeviceIotlbCounter;
import io.vioplane.iommu.SourceId;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.testing.Await;
import io.vioplane.platform.testing.Netns;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import io.vioplane.virtionet.VirtioNetFeature;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A Linux guest behind QEMU's virtual Intel IOMMU ({@code intel-iommu} with device IOTLB, {@code intel_iommu=on},
 * strict invalidation) whose virtio-net device has {@code iommu_platform=on}: the daemon negotiates
 * VIRTIO_F_ACCESS_PLATFORM, every ring and buffer address it sees is an iova, and it translates them through the
 * device IOTLB that QEMU feeds (QEMU docs/interop/vhost-user.rst, "IOMMU support"). The guest pings a namespace
 * through the daemon's bridge and TAP and runs iperf3 both ways; the daemon's IOTLB counters show the misses it sent,
 * the updates QEMU answered with and the invalidations of the guest's unmaps, and no refusal.
 *
 * <p>In the same run, each UPDATE is checked against Linux's own VT-d tables ({@link GuestIommuTablesCheck}):
 * vioplane's {@link io.vioplane.iommu.TranslationWalker} walks the guest's root, context and second-level tables for
 * the NIC's source ID as the UPDATE is applied, and must find the gpa QEMU sent, with permissions within those QEMU
 * sent (QEMU 7.2 sends every translation read-write, so read-only mappings are compared as a subset); a page the
 * guest is unmapping at that moment (entry already cleared, invalidation not yet sent) must be invalidated after.
 */
@Tag("qemu")
@Tag("netns")
class IommuGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration COMMAND = Duration.ofSeconds(90);
    /** The NIC's PCI slot on q35's root bus, fixed so that its source ID is known before the guest boots. */
    private static final int NIC_SLOT = 3;

    @Test
    void aGuestBehindAVirtualIommuPassesTrafficThroughTheDeviceIotlb(@TempDir final Path directory) throws Exception {
        GuestNetwork.requireGuestOnTapPeers();
        final String tapName = "vpi" + ProcessHandle.current().pid() % 10000;
        final Path socket = directory.resolve("vm.sock");
        final long features = VirtioNetFeature.all() & ~VirtioFeature.bit(VirtioNetFeature.MQ)
                | VirtioFeature.bit(VirtioFeature.ACCESS_PLATFORM);
        final VhostUserNetDaemon.Config config = new VhostUserNetDaemon.Config(List.of(socket), false, 0600, 1,
                VhostUserNetDaemon.PortKind.BRIDGE, new byte[] {0x52, 0x54, 0x00, 0x14, 0x00, 0x02}, 1500, features,
                tapName, true, null, false, -1, null);
        final Path qemuTrace = directory.resolve("qemu-trace.log");
        final GuestIommuTablesCheck tables = new GuestIommuTablesCheck(qemuTrace, SourceId.of(0, NIC_SLOT, 0));
        try (Netns netns = Netns.create("viommu");
             VhostUserNetDaemon daemon = VhostUserNetDaemon.start(config, System.err);
             QemuGuest guest = guestBehindIommu(socket, qemuTrace)) {
            daemon.iotlbListener(0, tables);
            GuestNetwork.addressTapInNamespace(netns, tapName, "10.56.0.1/24");
            guest.start();
            guest.awaitShell(BOOT);
            final String iommuGroup = guest.runSuccessfully("ls /sys/class/iommu/ && readlink"
                    + " /sys/class/net/eth0/device/../iommu_group", COMMAND).output();
            assertTrue(iommuGroup.contains("iommu_groups"), "the guest's virtio-net device sits behind the vIOMMU: "
                    + iommuGroup);
            final String nicAddress = guest.runSuccessfully("readlink -f /sys/class/net/eth0/device/..", COMMAND)
                    .output();
            assertTrue(nicAddress.contains("0000:00:0" + NIC_SLOT + ".0"), "the guest numbers the NIC as QEMU placed it"
                    + " (the source ID the walker uses): " + nicAddress);
            guest.runSuccessfully("ip link set eth0 up && ip addr add 10.56.0.2/24 dev eth0", COMMAND);
            final ShellResult ping = guest.run("ping -c 5 -W 10 10.56.0.1", COMMAND);
            assertEquals(0, ping.exitStatus(), "the guest pings the namespace through the device IOTLB:\n"
                    + ping.output() + "\n" + guest.consoleTail(3000));
            assertTrue(ping.output().contains("5 packets received"), ping.output());
            final ShellResult out = GuestNetwork.iperfToNamespace(guest, netns, directory, "10.56.0.1", "-t 3");
            System.out.println("guest behind a vIOMMU, iperf3 TCP out:\n" + out.output());
            final ShellResult in = GuestNetwork.iperfToNamespace(guest, netns, directory, "10.56.0.1", "-t 3 -R");
            System.out.println("guest behind a vIOMMU, iperf3 TCP in:\n" + in.output());

            final CounterSet<DeviceIotlbCounter> iotlb = daemon.iotlbCounters(0);
            System.out.println("device IOTLB counters: " + iotlb);
            assertTrue(iotlb.get(DeviceIotlbCounter.MISSES_SENT) > 0, "the daemon asked QEMU for translations: " + iotlb);
            assertTrue(iotlb.get(DeviceIotlbCounter.UPDATES) > 0, "QEMU sent translations: " + iotlb);
            assertTrue(iotlb.get(DeviceIotlbCounter.INVALIDATIONS) > 0, "the guest's unmaps reached the daemon: " + iotlb);
            assertTrue(iotlb.get(DeviceIotlbCounter.ENTRIES_INVALIDATED) > 0, iotlb.toString());
            for (DeviceIotlbCounter refusal : List.of(DeviceIotlbCounter.PERMISSION_DENIED,
                    DeviceIotlbCounter.OUTSIDE_GUEST_MEMORY, DeviceIotlbCounter.REFUSED_ZERO_SIZE,
                    DeviceIotlbCounter.REFUSED_WRAPS, DeviceIotlbCounter.REFUSED_PERMISSIONS,
                    DeviceIotlbCounter.REFUSED_OVERLAP, DeviceIotlbCounter.REFUSED_OUTSIDE_MEMORY,
                    DeviceIotlbCounter.REFUSED_TYPE, DeviceIotlbCounter.RINGS_PAUSED,
                    DeviceIotlbCounter.LOG_UNTRANSLATED)) {
                assertEquals(0, iotlb.get(refusal), "a well-behaved QEMU and guest cause no " + refusal + ": " + iotlb);
            }

            assertTrue(Await.until(() -> tables.unmapsInProgress().isEmpty(), 30_000), "every page found not present"
                    + " at its UPDATE (an unmap in progress) was invalidated afterwards: " + tables.unmapsInProgress());
            daemon.iotlbListener(0, null);
            System.out.println("QEMU's IOTLB updates against Linux's own VT-d tables: " + tables.summary());
            assertEquals(List.of(), tables.disagreements(), "vioplane's walker of the guest's tables agrees with every"
                    + " translation QEMU sent: " + tables.summary());
            assertTrue(tables.updates() > 0 && tables.pagesCompared() + tables.notPresentPages() >= tables.updates(),
                    "every UPDATE was walked: " + tables.summary());
            assertEquals(GuestIommuTablesCheck.lastRootTable(qemuTrace), tables.rootTableGpa(),
                    "the walks started from the root table the guest still uses at the end");
        }
    }

    /**
     * A q35 guest with an Intel vIOMMU (interrupt remapping, device IOTLB; legacy-mode tables, QEMU 7.2's default) in
     * front of its vhost-user NIC at 00:03.0; QEMU logs the root-table pointer the guest sets into {@code trace}.
     */
    private static QemuGuest guestBehindIommu(final Path socket, final Path trace) {
        return QemuGuest.builder(LinuxGuestImage.standard())
                .kernelArguments("intel_iommu=on", "iommu.strict=1")
                .extraArguments(
                        "-machine", "q35,kernel-irqchip=split",
                        "-device", "intel-iommu,intremap=on,device-iotlb=on,x-scalable-mode=off",
                        "-trace", "vtd_reg_dmar_root", "-D", trace.toString(),
                        "-chardev", "socket,id=c0,path=" + socket,
                        "-netdev", "vhost-user,id=n0,chardev=c0",
                        "-device", "virtio-net-pci,netdev=n0,romfile=,vectors=0,disable-legacy=on,iommu_platform=on,ats=on,"
                                + "mac=52:54:00:14:00:02,addr=" + NIC_SLOT)
                .build();
    }
}
