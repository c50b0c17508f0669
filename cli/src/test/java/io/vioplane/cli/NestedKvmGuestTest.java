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
                .modules("virtio_pci", "9pnet_virtio", "9p", "kvm_amd").build();
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
