package io.vioplane.platform.testing.peers;

import io.vioplane.platform.testing.Commands;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * The kernel modules a guest needs, with every dependency, in the order insmod must load them, as
 * {@code modprobe -S VERSION --show-depends NAME} lists them for a kernel that need not be the running one.
 */
final class KernelModules {
    private KernelModules() {
    }

    /**
     * One module file to load.
     *
     * @param name       the module's name as the guest sees its file, e.g. {@code virtio_net}
     * @param source     the file on the host, possibly compressed ({@code .ko.xz}, {@code .ko.zst}, {@code .ko.gz})
     * @param parameters insmod parameters from the host's modprobe configuration, or empty
     */
    record ModuleFile(String name, Path source, String parameters) {
        /** @return the module's ELF bytes, decompressed if the package ships it compressed */
        byte[] readUncompressed() {
            final String file = source.getFileName().toString();
            try {
                if (file.endsWith(".ko")) {
                    return Files.readAllBytes(source);
                }
                if (file.endsWith(".ko.gz")) {
                    try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(source))) {
                        return in.readAllBytes();
                    }
                }
                if (file.endsWith(".ko.xz")) {
                    return decompressWith(HostPrograms.require("xz", "xz-utils"));
                }
                if (file.endsWith(".ko.zst")) {
                    return decompressWith(HostPrograms.require("zstd", "zstd"));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading kernel module " + source, e);
            }
            throw new IllegalStateException("unknown kernel module format: " + source);
        }

        private byte[] decompressWith(final Path tool) throws IOException {
            final Process process = new ProcessBuilder(tool.toString(), "-dc", source.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            final byte[] bytes = process.getInputStream().readAllBytes();
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                    process.destroyForcibly();
                    throw new IllegalStateException(tool + " -dc " + source + " failed");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while decompressing " + source, e);
            }
            return bytes;
        }
    }

    /**
     * @return the module files that load {@code names} into kernel {@code kernelVersion}, dependencies first, each
     *         once; modules built into that kernel are left out
     */
    static List<ModuleFile> inLoadOrder(final String kernelVersion, final List<String> names) {
        final String modprobe = HostPrograms.require("modprobe", "kmod").toString();
        final Map<String, ModuleFile> ordered = new LinkedHashMap<>();
        for (final String name : names) {
            final Commands.Result result = Commands.tryRun(modprobe, "-S", kernelVersion, "--show-depends", name);
            if (result.exitCode() != 0) {
                throw new IllegalStateException("modprobe -S " + kernelVersion + " --show-depends " + name
                        + " exited " + result.exitCode() + ": " + result.output());
            }
            for (final ModuleFile module : parse(result.output())) {
                ordered.putIfAbsent(module.name(), module);
            }
        }
        return List.copyOf(ordered.values());
    }

    private static List<ModuleFile> parse(final String showDependsOutput) {
        final List<ModuleFile> modules = new ArrayList<>();
        for (final String line : showDependsOutput.split("\n")) {
            final String trimmed = line.strip();
            if (!trimmed.startsWith("insmod ")) {
                continue;
            }
            final String[] words = trimmed.substring("insmod ".length()).strip().split("\\s+", 2);
            final Path source = Path.of(words[0]);
            modules.add(new ModuleFile(moduleName(source), source, words.length > 1 ? words[1] : ""));
        }
        return modules;
    }

    private static String moduleName(final Path source) {
        final String file = source.getFileName().toString();
        return file.substring(0, file.indexOf(".ko"));
    }
}
