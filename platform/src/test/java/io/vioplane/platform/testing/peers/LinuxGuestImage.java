package io.vioplane.platform.testing.peers;

import io.vioplane.platform.testing.Commands;
import io.vioplane.platform.testing.Requirements;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * A Linux kernel from the host's {@code /boot} and a busybox initramfs built for it: busybox with its applet
 * links, the kernel modules for virtio-net, virtio-pci, virtio-blk and e1000 with their dependencies (loaded
 * by {@code /init}), iperf3 and (where the host has it) ethtool with their shared libraries. The initramfs is built
 * once per content and kept
 * under {@code ${java.io.tmpdir}/vioplane-guest/VERSION-HASH/}; it is written to a temporary file and renamed
 * into place, so JVMs building it at the same time never see half an archive.
 */
public final class LinuxGuestImage {
    /** The line the guest's {@code /init} prints just before the shell starts reading the serial console. */
    public static final String SHELL_READY_LINE = "vioplane-guest: shell ready";
    /** The modules the standard image loads (their dependencies come with them). */
    public static final List<String> STANDARD_MODULES = List.of("virtio_net", "virtio_pci", "virtio_blk", "e1000");
    /** The archive's file name inside its cache directory. */
    public static final String INITRAMFS_FILE_NAME = "initramfs.cpio.gz";

    private static final Pattern VMLINUZ = Pattern.compile("vmlinuz-(.+)");
    private static final Pattern VERSION_PARTS = Pattern.compile("(?<=\\d)(?=\\D)|(?<=\\D)(?=\\d)");
    private static final int HASH_HEX_DIGITS = 16;
    private static LinuxGuestImage standard;

    private final String kernelVersion;
    private final Path kernel;
    private final Path initramfs;
    private final List<String> moduleLoadOrder;

    private LinuxGuestImage(final String kernelVersion, final Path kernel, final Path initramfs,
            final List<String> moduleLoadOrder) {
        this.kernelVersion = kernelVersion;
        this.kernel = kernel;
        this.initramfs = initramfs;
        this.moduleLoadOrder = List.copyOf(moduleLoadOrder);
    }

    /** @return the standard image (newest usable kernel, {@link #STANDARD_MODULES}, iperf3), built once per JVM */
    public static synchronized LinuxGuestImage standard() {
        if (standard == null) {
            standard = builder().build();
        }
        return standard;
    }

    /** @return a builder for an image with other modules, programs, kernel or cache directory */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Skips (or, under {@code VIOPLANE_REQUIRE_PEERS=1}, fails) the calling test unless this machine has what the
     * standard image is built from: a kernel with modules, busybox, modprobe, ldd and iperf3.
     */
    public static void requireInputs() {
        Requirements.require(findKernelVersion().isPresent(),
                "a Linux kernel with its modules (/boot/vmlinuz-VERSION and /lib/modules/VERSION): "
                        + "apt-get install linux-image-amd64");
        Requirements.require(HostPrograms.find("busybox").isPresent(), "busybox-static: 'busybox'");
        Requirements.require(HostPrograms.find("modprobe").isPresent(), "kmod: 'modprobe'");
        Requirements.require(HostPrograms.find("ldd").isPresent(), "libc-bin: 'ldd'");
        Requirements.require(HostPrograms.find("iperf3").isPresent(), "iperf3: 'iperf3'");
    }

    /**
     * @return the newest kernel version that has both {@code /boot/vmlinuz-VERSION} and a module tree with
     *         {@code modules.dep} (the running kernel's version is irrelevant: the guest boots this one)
     */
    public static Optional<String> findKernelVersion() {
        try (Stream<Path> boot = Files.list(Path.of("/boot"))) {
            return boot.map(path -> VMLINUZ.matcher(path.getFileName().toString()))
                    .filter(Matcher::matches)
                    .map(matcher -> matcher.group(1))
                    .filter(version -> Files.isReadable(Path.of("/boot", "vmlinuz-" + version))
                            && Files.isRegularFile(Path.of("/lib/modules", version, "modules.dep")))
                    .max(LinuxGuestImage::compareVersions);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** @return the kernel version the image was built for, e.g. {@code 6.1.0-56-amd64} */
    public String kernelVersion() {
        return kernelVersion;
    }

    /** @return the kernel to pass to QEMU's {@code -kernel} */
    public Path kernel() {
        return kernel;
    }

    /** @return the gzip-compressed newc cpio archive to pass to QEMU's {@code -initrd} */
    public Path initramfs() {
        return initramfs;
    }

    /** @return the names of the modules {@code /init} loads, in the order it loads them */
    public List<String> moduleLoadOrder() {
        return moduleLoadOrder;
    }

    @Override
    public String toString() {
        return "LinuxGuestImage[kernel=" + kernel + ", initramfs=" + initramfs + ", modules=" + moduleLoadOrder + "]";
    }

    private static int compareVersions(final String left, final String right) {
        final String[] leftParts = VERSION_PARTS.split(left);
        final String[] rightParts = VERSION_PARTS.split(right);
        for (int i = 0; i < Math.min(leftParts.length, rightParts.length); i++) {
            final String a = leftParts[i];
            final String b = rightParts[i];
            final boolean numbers = !a.isEmpty() && !b.isEmpty() && Character.isDigit(a.charAt(0))
                    && Character.isDigit(b.charAt(0));
            final int order = numbers ? new BigInteger(a).compareTo(new BigInteger(b)) : a.compareTo(b);
            if (order != 0) {
                return order;
            }
        }
        return Integer.compare(leftParts.length, rightParts.length);
    }

    /** Chooses what goes into an image; {@link #build()} returns it from the cache or builds it. */
    public static final class Builder {
        private String kernelVersion;
        private final List<String> modules = new ArrayList<>(STANDARD_MODULES);
        private final List<Path> programs = new ArrayList<>();
        private Path cacheDirectory = Path.of(System.getProperty("java.io.tmpdir"), "vioplane-guest");

        private Builder() {
        }

        /** Boots kernel {@code version} (its /boot/vmlinuz and /lib/modules) instead of the newest one. */
        public Builder kernelVersion(final String version) {
            this.kernelVersion = version;
            return this;
        }

        /** Loads these modules (with their dependencies) instead of {@link #STANDARD_MODULES}. */
        public Builder modules(final String... names) {
            modules.clear();
            modules.addAll(List.of(names));
            return this;
        }

        /** Also copies host program {@code program} (iperf3 always comes) and the libraries ldd names, at their paths. */
        public Builder program(final Path program) {
            programs.add(program);
            return this;
        }

        /** Keeps built archives under {@code directory} instead of {@code ${java.io.tmpdir}/vioplane-guest}. */
        public Builder cacheDirectory(final Path directory) {
            this.cacheDirectory = directory;
            return this;
        }

        /** @return the image, built now unless an identical archive is already in the cache */
        public LinuxGuestImage build() {
            final String version = kernelVersion != null ? kernelVersion : findKernelVersion().orElseThrow(
                    () -> new IllegalStateException("no /boot/vmlinuz-VERSION with /lib/modules/VERSION/modules.dep:"
                            + " apt-get install linux-image-amd64"));
            final Path kernel = Path.of("/boot", "vmlinuz-" + version);
            if (!Files.isReadable(kernel)) {
                throw new IllegalStateException("cannot read the kernel " + kernel);
            }
            final List<KernelModules.ModuleFile> moduleFiles = KernelModules.inLoadOrder(version, modules);
            final byte[] archive = archive(moduleFiles);
            final String key = version + "-" + sha256Hex(archive).substring(0, HASH_HEX_DIGITS);
            final Path directory = cacheDirectory.resolve(key);
            final Path initramfs = directory.resolve(INITRAMFS_FILE_NAME);
            if (!Files.isRegularFile(initramfs)) {
                writeAtomically(initramfs, archive);
            }
            return new LinuxGuestImage(version, kernel, initramfs,
                    moduleFiles.stream().map(KernelModules.ModuleFile::name).toList());
        }

        private byte[] archive(final List<KernelModules.ModuleFile> moduleFiles) {
            final NewcArchive archive = new NewcArchive();
            for (final String directory : List.of("dev", "proc", "sys", "tmp", "run", "root", "etc", "lib/modules")) {
                archive.directory(directory);
            }
            archive.charDevice("dev/console", 0600, 5, 1);
            final Path busybox = HostPrograms.require("busybox", "busybox-static");
            addExecutable(archive, busybox, "bin/busybox");
            for (final String applet : Commands.run(busybox.toString(), "--list-full").split("\n")) {
                final String link = applet.strip();
                if (!link.isEmpty() && !archive.contains(link)) {
                    archive.symlink(link, "/bin/busybox");
                }
            }
            addExecutable(archive, HostPrograms.require("iperf3", "iperf3"), null);
            HostPrograms.find("ethtool").ifPresent(ethtool -> addExecutable(archive, ethtool, "bin/ethtool"));
            for (final Path program : programs) {
                addExecutable(archive, program, null);
            }
            for (final KernelModules.ModuleFile module : moduleFiles) {
                archive.file(GuestInitScript.modulePath(module.name()), 0644, module.readUncompressed());
            }
            archive.file("init", 0755, GuestInitScript.text(moduleFiles).getBytes(StandardCharsets.UTF_8));
            return archive.toBytes();
        }

        /** Adds {@code program} at {@code pathInImage} (null: at its host path) and the libraries it needs. */
        private static void addExecutable(final NewcArchive archive, final Path program, final String pathInImage) {
            archive.file(pathInImage != null ? pathInImage : program.toString(), 0755, readAll(program));
            for (final Path library : SharedLibraries.of(program)) {
                archive.file(library.toString(), 0755, readAll(library));
            }
        }

        private static byte[] readAll(final Path file) {
            try {
                return Files.readAllBytes(file);
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + file + " for the guest image", e);
            }
        }

        private static void writeAtomically(final Path target, final byte[] archive) {
            try {
                Files.createDirectories(target.getParent());
                final Path partial = Files.createTempFile(target.getParent(), "initramfs-", ".partial");
                try {
                    try (OutputStream out = new FastGzipOutputStream(Files.newOutputStream(partial))) {
                        out.write(archive);
                    }
                    Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-r--r--"));
                    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(partial);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("writing the guest initramfs " + target, e);
            }
        }

        private static String sha256Hex(final byte[] bytes) {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }
    }

    /** gzip at deflate level 1: several times faster than the default, and the kernel unpacks it just the same. */
    private static final class FastGzipOutputStream extends GZIPOutputStream {
        FastGzipOutputStream(final OutputStream out) throws IOException {
            super(out, 1 << 16);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }
}
