package io.vioplane.platform.sys;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The KVM API's request numbers (Linux {@code Documentation/virt/kvm/api.rst}, {@code include/uapi/linux/kvm.h}),
 * the {@code /dev/kvm} device, and which implementation of it this host has. The calls themselves go through
 * {@link Ioctl}; the structures they take are flyweights in the VMM module.
 */
public final class Kvm {
    /** The KVM device. */
    public static final Path DEVICE = Path.of("/dev/kvm");
    /** KVM_GET_API_VERSION answers this on every kernel since 2.6.22. */
    public static final int API_VERSION = 12;

    private static final int KVMIO = 0xAE;

    public static final long GET_API_VERSION = io(0x00);
    public static final long CREATE_VM = io(0x01);
    public static final long CHECK_EXTENSION = io(0x03);
    public static final long GET_VCPU_MMAP_SIZE = io(0x04);
    public static final long GET_SUPPORTED_CPUID = ioWriteRead(0x05, 8);
    public static final long CREATE_VCPU = io(0x41);
    public static final long SET_USER_MEMORY_REGION = ioWrite(0x46, 32);
    public static final long SET_TSS_ADDR = io(0x47);
    public static final long CREATE_IRQCHIP = io(0x60);
    public static final long IRQ_LINE_STATUS = ioWriteRead(0x67, 8);
    public static final long SET_GSI_ROUTING = ioWrite(0x6a, 8);
    public static final long IRQFD = ioWrite(0x76, 32);
    public static final long IOEVENTFD = ioWrite(0x79, 64);
    public static final long RUN = io(0x80);
    public static final long GET_REGS = ioRead(0x81, 144);
    public static final long SET_REGS = ioWrite(0x82, 144);
    public static final long GET_SREGS = ioRead(0x83, 312);
    public static final long SET_SREGS = ioWrite(0x84, 312);
    public static final long SET_CPUID2 = ioWrite(0x90, 8);
    public static final long SIGNAL_MSI = ioWrite(0xa5, 32);
    public static final long GET_STATS_FD = io(0xce);

    /** KVM_CHECK_EXTENSION capability numbers vioplane asks about. */
    public static final int CAP_IRQCHIP = 0;
    public static final int CAP_USER_MEMORY = 3;
    public static final int CAP_IRQ_ROUTING = 25;
    public static final int CAP_IRQFD = 32;
    public static final int CAP_IOEVENTFD = 36;
    public static final int CAP_SIGNAL_MSI = 77;
    public static final int CAP_IMMEDIATE_EXIT = 136;
    public static final int CAP_BINARY_STATS_FD = 203;

    private Kvm() {
    }

    private static long io(final int number) {
        return (KVMIO << 8) | number;
    }

    private static long ioWrite(final int number, final int sizeBytes) {
        return (1L << 30) | ((long) sizeBytes << 16) | (KVMIO << 8) | number;
    }

    private static long ioRead(final int number, final int sizeBytes) {
        return (2L << 30) | ((long) sizeBytes << 16) | (KVMIO << 8) | number;
    }

    private static long ioWriteRead(final int number, final int sizeBytes) {
        return (3L << 30) | ((long) sizeBytes << 16) | (KVMIO << 8) | number;
    }

    /** @return whether {@code /dev/kvm} exists and this process may open it */
    public static boolean available() {
        if (!Files.isReadable(DEVICE) || !Files.isWritable(DEVICE)) {
            return false;
        }
        try {
            FileIo.close(open());
            return true;
        } catch (SysException e) {
            return false;
        }
    }

    /** @return a new descriptor of {@code /dev/kvm}, close-on-exec; the caller owns it */
    public static int open() {
        return FileIo.open(DEVICE.toString(), FileIo.O_RDWR | FileIo.O_CLOEXEC);
    }

    /**
     * @return whether this host's KVM is {@code kvm_pvm} (a software hypervisor that runs guest ring 3
     *         natively and emulates ring 0) rather than VT-x or SVM
     */
    public static boolean isPvm() {
        return Files.isDirectory(Path.of("/sys/module/kvm_pvm")) && !Files.isDirectory(Path.of("/sys/module/kvm_intel"))
                && !Files.isDirectory(Path.of("/sys/module/kvm_amd"));
    }
}
