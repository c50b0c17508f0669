package io.vioplane.cli;

import io.vioplane.platform.testing.Requirements;
import io.vioplane.platform.testing.peers.LinuxGuestImage;
import io.vioplane.platform.testing.peers.QemuGuest;
import io.vioplane.platform.testing.peers.ShellResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code vioplane run} on a real hardware-style KVM where the host has none: QEMU TCG emulates AMD SVM ({@code -cpu
 * max}), a Linux guest loads {@code kvm_amd}, mounts the host's root file system read-only over 9p
 * ({@code -virtfs}) and runs this build's {@code vioplane run} (the host's JDK, jars and guest images) on each
 * guest program, in ring 0 as on VT-x/SVM. Checks every program's result line, exit status and exits by VT-x
 * reason.
 *
 * <p>{@code e1000_ping} also runs on vioplane's e1000 ({@code --device e1000 --tap}) with a TAP in a network
 * namespace made in the nested guest, pinged from there.
 *
 * <p>Opt-in with {@code VIOPLANE_NESTED_KVM=1}: everything runs under TCG, one JVM start per program, about four
 * minutes in all. The guest has one vCPU (with two, nested SVM under TCG hung in KVM_RUN in one attempt).
 */
@Tag("qemu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NestedKvmGuestTest {
    private static final Duration BOOT = Duration.ofSeconds(300);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final Duration VIOPLANE_RUN = Duration.ofSeconds(600);
    private static final int GUEST_MEMORY_MIB = 3072;
    private static final String HOST_ROOT_TAG = "hostroot";
    private static final String E1000_NETNS = "e1knest";
    private static final String E1000_TAP = "e1knest0";
    private static final Pattern E1000_RESULT = Pattern.compile("(?m)^result: e1000 link=1 tx=(\\d+) rx=(\\d+)"
            + " arp=(\\d+) echo=5 gptc=(\\d+) gprc=(\\d+) mmio=(\\d+)(?: irq=(\\d+))?\\s*$");
    private static final Path SCRIPT = Path.of("target", "nested-kvm", "vioplane-run.sh").toAbsolutePath();

    private QemuGuest guest;

    @BeforeAll
    void bootGuestWithKvm() throws IOException {
        if (!"1".equals(System.getenv("VIOPLANE_NESTED_KVM"))) {
            final String message = "opt-in: VIOPLANE_NESTED_KVM=1 boots a QEMU TCG guest with nested kvm_amd and"
                    + " runs vioplane run inside it (about 4 minutes)";
            System.err.println("\n*** SKIPPED: " + message + " ***\n");
            Assumptions.abort(message);
        }
        QemuGuest.requireQemu();
        LinuxGuestImage.requireInputs();
        final Path root = Path.of(System.getProperty("vioplane.root", "..")).toAbsolutePath().normalize();
        Requirements.require(Files.isRegularFile(root.resolve("cpu-vmx-core/target/guests/hello.elf")),
                "guest images in cpu-vmx-core/target/guests (gcc and binutils to build them)");
        writeRunScript(root);
        final LinuxGuestImage image = LinuxGuestImage.builder()
                .modules("virtio_pci", "9pnet_virtio", "9p", "kvm_amd", "tun").build();
        guest = QemuGuest.builder(image).memoryMiB(GUEST_MEMORY_MIB).vcpus(1)
                .kernelArguments("nowatchdog", "rcu_cpu_stall_suppress=1")
                .extraArguments("-virtfs", "local,path=/,mount_tag=" + HOST_ROOT_TAG
                        + ",security_model=passthrough,readonly=on,multidevs=remap")
                .build();
        guest.start();
        guest.awaitShell(BOOT);
        final ShellResult kvm = guest.run("test -c /dev/kvm", COMMAND);
        if (!kvm.succeeded()) {
            fail("kvm_amd did not give the guest /dev/kvm (QEMU must emulate SVM: -cpu max):\n"
                    + guest.run("grep -o -w -E 'svm|npt' /proc/cpuinfo | sort | uniq -c; dmesg | grep -i -E"
                    + " 'kvm|svm' | tail -20", COMMAND).output());
        }
        guest.runSuccessfully("mkdir -p /host && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose "
                + HOST_ROOT_TAG + " /host && mount -t proc proc /host/proc && mount -t sysfs sysfs /host/sys"
                + " && mount -t devtmpfs devtmpfs /host/dev && mount -t tmpfs tmpfs /host/tmp", COMMAND);
    }

    /** The host's JDK and this test's own class path (host paths: the guest chroots into the host's root). */
    private static void writeRunScript(final Path root) throws IOException {
        final String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Files.createDirectories(SCRIPT.getParent());
        Files.writeString(SCRIPT, "#!/bin/sh\n"
                + "# written by NestedKvmGuestTest: runs vioplane in the nested guest (chroot into the host's root)\n"
                + "exec " + java + " @" + root.resolve("jvm.options") + " -XX:TieredStopAtLevel=1 -Dvioplane.root="
                + root + " -cp '" + classPath + "' io.vioplane.cli.Vioplane run \"$@\"\n");
        Files.setPosixFilePermissions(SCRIPT, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterAll
    void stopGuest() {
        if (guest != null) {
            guest.close();
        }
    }

    /**
     * {@code e1000_ping} on vioplane's e1000 ({@code vioplane run --device e1000 --tap}) inside the nested guest: a
     * TAP in a network namespace made there, the kernel pings the guest 5 times from the namespace, and the guest's
     * counts, the device's (GPTC/GPRC and vioplane's report) and the TAP's agree; the report's exits per frame are
     * printed for the record. Polling, one register write per frame (TDT or RDT), as on QEMU's e1000
     * (E1000GuestDriverQemuTest); {@code e1000_ping_irq} sleeps in hlt until INTA# (GSI 18 through KVM's in-kernel
     * IOAPIC) and adds an ICR read and an IMC write per interrupt and an IMS write per unmasking.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"e1000_ping", "e1000_ping_irq"})
    void e1000PingAnswersPingsThroughVioplanesE1000OnNestedKvm(final String program) {
        final Path root = Path.of(System.getProperty("vioplane.root", "..")).toAbsolutePath().normalize();
        final Path image = root.resolve("cpu-vmx-core/target/guests/" + program + ".elf");
        final boolean interrupts = program.endsWith("_irq");
        final String inNetns = "chroot /host /usr/bin/ip netns exec " + E1000_NETNS + " ";
        final String log = "/host/tmp/" + program + ".log";
        guest.runSuccessfully("mkdir -p /host/run && (grep -q ' /host/run ' /proc/mounts || mount -t tmpfs tmpfs"
                + " /host/run) && chroot /host /usr/bin/ip netns add " + E1000_NETNS, COMMAND);
        try {
            guest.runSuccessfully(inNetns + "/usr/sbin/sysctl -qw net.ipv6.conf.all.disable_ipv6=1"
                    + " net.ipv6.conf.default.disable_ipv6=1 && " + inNetns + "/usr/bin/ip tuntap add dev "
                    + E1000_TAP + " mode tap && " + inNetns + "/usr/bin/ip addr add 10.61.0.1/24 dev " + E1000_TAP
                    + " && " + inNetns + "/usr/bin/ip link set " + E1000_TAP + " up", COMMAND);
            final long startNs = System.nanoTime();
            guest.runSuccessfully("(" + inNetns + SCRIPT + " --watchdog 300 --device e1000 --tap " + E1000_TAP + " "
                    + image + " > " + log + " 2>&1; echo \"vioplane status $?\" >> " + log + ") &", COMMAND);
            final ShellResult ready = guest.run("for i in $(seq 600); do grep -q 'e1000 ready' " + log
                    + " && break; grep -q 'vioplane status' " + log + " && break; sleep 1; done; cat " + log,
                    VIOPLANE_RUN);
            assertTrue(ready.output().contains("e1000 ready"), "the guest driver gets ready:\n" + ready);
            final ShellResult ping = guest.run(inNetns + "/usr/bin/ping -c 5 -W 10 10.61.0.2", VIOPLANE_RUN);
            final ShellResult run = guest.run("for i in $(seq 300); do grep -q 'vioplane status' " + log
                    + " && break; sleep 1; done; cat " + log, VIOPLANE_RUN);
            final long tapReceived = tapStatistic(inNetns, "rx_packets");
            final long tapSent = tapStatistic(inNetns, "tx_packets");
            System.out.println("nested kvm_amd, " + program + " on vioplane's e1000 (" + (System.nanoTime() - startNs)
                    / 1_000_000_000 + " s with the JVM start under TCG):\n" + ping.output() + "\n" + run.output()
                    + "\nTAP " + E1000_TAP + ": rx_packets " + tapReceived + ", tx_packets " + tapSent);
            assertTrue(ping.output().contains("5 packets transmitted, 5 received"), ping.toString());
            assertTrue(run.output().contains("vioplane status 0"), run.toString());
            final Matcher result = E1000_RESULT.matcher(run.output());
            assertTrue(result.find(), run.toString());
            final long sent = Long.parseLong(result.group(1));
            final long received = Long.parseLong(result.group(2));
            final long registerAccesses = Long.parseLong(result.group(6));
            assertEquals(5 + 3 + Long.parseLong(result.group(3)), sent, "5 echo replies, 3 announcements, ARP replies");
            assertEquals(sent, Long.parseLong(result.group(4)), "vioplane's GPTC counts what the guest sent");
            assertEquals(received, Long.parseLong(result.group(5)), "vioplane's GPRC counts what it received");
            assertEquals(sent, tapReceived, "the TAP received every frame the guest sent");
            assertEquals(received, tapSent, "the guest received every frame the kernel sent to the TAP");
            assertTrue(run.output().contains("frames sent " + sent + ", received " + received + ";"),
                    "vioplane's report counts the same frames:\n" + run);
            if (!interrupts) {
                assertEquals(sent + received, registerAccesses, "one register write (TDT or RDT) per frame");
                return;
            }
            assertTrue(run.output().contains("e1000 interrupts: RXT0 on vector 64"), run.toString());
            final long taken = Long.parseLong(result.group(7));
            assertTrue(taken >= 1, "the guest took the device's interrupt:\n" + run);
            assertTrue(run.output().contains("INTA# asserted " + taken + " times"),
                    "every assertion of INTA# reached the guest once:\n" + run);
            assertTrue(registerAccesses >= sent + received + 2 * taken,
                    "TDT/RDT per frame, ICR and IMC per interrupt:\n" + run);
        } finally {
            guest.run(inNetns + "/usr/bin/ip link del " + E1000_TAP + "; chroot /host /usr/bin/ip netns del "
                    + E1000_NETNS, COMMAND);
        }
    }

    private long tapStatistic(final String inNetns, final String name) {
        return Long.parseLong(guest.runSuccessfully(inNetns + "/usr/bin/cat /sys/class/net/" + E1000_TAP
                + "/statistics/" + name, COMMAND).output().strip());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            hello          | 0 | result: fib(90)=2880067194370816120 primes<10000=1229 | 48 ept-violation |
            interrupts     | 0 | result: int3=3 ud=1                                   | 48 ept-violation |
            pci_scan       | 0 | result: pci functions=1 first=531254                  | 48 ept-violation |
            iommu_probe    | 0 | result: iommu dmar haw=48 intr_remap=1 drhd=0xfed90000 segment=0 include_pci_all=1 ver=0x10 mgaw=48 sagaw=0x6 nfr=4 ecap_ir=1 | 48 ept-violation | --device iommu
            spin           | 1 | stopped by the watchdog                               | 1 external-interrupt |
            triple_fault   | 1 | guest fault triple-fault: triple-fault (2)            | 2 triple-fault |
            unmapped_write | 1 | guest fault unclaimed-mmio: ept-violation (48) write 4 bytes at 0xc0000000 value 0xdeadbeef | 48 ept-violation |
            """)
    void guestProgramRunsOnNestedKvm(final String program, final int status, final String line, final String exit,
                                     final String options) {
        final Path root = Path.of(System.getProperty("vioplane.root", "..")).toAbsolutePath().normalize();
        final Path image = root.resolve("cpu-vmx-core/target/guests/" + program + ".elf");
        final long startNs = System.nanoTime();
        final ShellResult result = guest.run("chroot /host " + SCRIPT + " --watchdog 5 "
                + (options == null ? "" : options + " ") + image, VIOPLANE_RUN);
        System.out.println("nested kvm_amd, " + program + " (" + (System.nanoTime() - startNs) / 1_000_000_000
                + " s with the JVM start under TCG):\n" + result.output());
        assertEquals(status, result.exitStatus(), result.toString());
        assertTrue(result.output().contains(line), result.toString());
        final String[] reason = exit.split(" ");
        assertTrue(Pattern.compile("(?m)^\\s+" + reason[0] + "\\s+" + Pattern.quote(reason[1]) + "\\s+\\d+\\s+\\d+\\.\\d%\\s*$")
                .matcher(result.output()).find(), "exits by VT-x reason list " + exit + ":\n" + result);
    }
}
