package io.vioplane.platform.testing.peers;

import io.vioplane.platform.testing.ChildJvm;
import io.vioplane.platform.testing.Commands;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest initramfs without booting it: what the archive holds (init, busybox and its applets, every
 * module in an order that loads, iperf3 with its libraries, a console node) and how the cache behaves
 * (one build per content, no half-written archive even when JVMs race).
 */
class LinuxGuestImageTest {
    private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};

    @TempDir
    static Path sharedCacheDirectory;
    private static LinuxGuestImage sharedImage;

    @TempDir
    Path cacheDirectory;

    @BeforeAll
    static void buildOneImageForTheContentTests() {
        LinuxGuestImage.requireInputs();
        sharedImage = LinuxGuestImage.builder().cacheDirectory(sharedCacheDirectory).build();
    }

    @Test
    void initLoadsEveryModuleAfterTheModulesItDependsOn() throws Exception {
        final LinuxGuestImage image = sharedImage;
        final Map<String, NewcReader.Entry> entries = NewcReader.read(image.initramfs());
        final String init = entries.get("init").text();
        final List<String> loaded = new ArrayList<>();
        for (final String line : init.lines().toList()) {
            if (line.startsWith("insmod ")) {
                final String path = line.split("\\s+")[1];
                loaded.add(path.substring(path.lastIndexOf('/') + 1, path.length() - ".ko".length()));
            }
        }
        assertEquals(image.moduleLoadOrder(), loaded, init);
        for (final String wanted : LinuxGuestImage.STANDARD_MODULES) {
            assertTrue(loaded.contains(wanted), wanted + " is loaded:\n" + init);
        }
        final String modinfo = HostPrograms.require("modinfo", "kmod").toString();
        for (int i = 0; i < loaded.size(); i++) {
            final String depends = Commands.run(modinfo, "-k", image.kernelVersion(), "-F", "depends", loaded.get(i))
                    .strip();
            for (final String dependency : depends.isEmpty() ? new String[0] : depends.split(",")) {
                final int at = loaded.indexOf(dependency.replace('-', '_'));
                assertTrue(at >= 0 && at < i, loaded.get(i) + " needs " + dependency + " loaded first: " + loaded);
            }
        }
        for (final String module : loaded) {
            final NewcReader.Entry file = entries.get("lib/modules/" + module + ".ko");
            assertTrue(file != null && file.isRegularFile(), module + " is in the archive");
            assertArrayEquals(ELF_MAGIC, Arrays.copyOf(file.data(), 4), module + " is an uncompressed ELF object");
        }
    }

    @Test
    void archiveHoldsInitBusyboxWithItsAppletsIperf3WithItsLibrariesAndAConsole() throws Exception {
        final LinuxGuestImage image = sharedImage;
        final Map<String, NewcReader.Entry> entries = NewcReader.read(image.initramfs());
        assertTrue(entries.get("init").isRegularFile() && (entries.get("init").mode() & 0111) != 0, "/init runs");
        assertTrue(entries.get("init").text().contains(LinuxGuestImage.SHELL_READY_LINE), "/init says when ready");
        final Path busybox = HostPrograms.require("busybox", "busybox-static");
        assertArrayEquals(Files.readAllBytes(busybox), entries.get("bin/busybox").data(), "busybox is the host's");
        for (final String applet : Commands.run(busybox.toString(), "--list-full").strip().split("\n")) {
            if (applet.equals("bin/busybox")) {
                continue;
            }
            final NewcReader.Entry link = entries.get(applet);
            assertTrue(link != null && link.isSymlink() && link.text().equals("/bin/busybox"),
                    applet + " links busybox");
        }
        final Path iperf3 = HostPrograms.require("iperf3", "iperf3");
        assertArrayEquals(Files.readAllBytes(iperf3), entries.get(iperf3.toString().substring(1)).data());
        for (final Path library : SharedLibraries.of(iperf3)) {
            final NewcReader.Entry file = entries.get(library.toString().substring(1));
            assertTrue(file != null && file.isRegularFile(), library + " (from ldd) is a file in the archive");
            assertArrayEquals(Files.readAllBytes(library), file.data(), library + " is the host's");
        }
        final NewcReader.Entry console = entries.get("dev/console");
        assertTrue(console.isCharDevice() && console.deviceMajor() == 5 && console.deviceMinor() == 1, "/dev/console");
        final List<String> names = List.copyOf(entries.keySet());
        for (int i = 0; i < names.size(); i++) {
            final int slash = names.get(i).lastIndexOf('/');
            final int directoryAt = slash < 0 ? -1 : names.indexOf(names.get(i).substring(0, slash));
            assertTrue(slash < 0 || (directoryAt >= 0 && directoryAt < i), names.get(i) + " follows its directory");
        }
    }

    @Test
    void buildingTheSameImageAgainReusesTheCachedArchive() throws Exception {
        final Path first = LinuxGuestImage.builder().cacheDirectory(cacheDirectory).build().initramfs();
        final FileTime written = Files.getLastModifiedTime(first);
        final Path second = LinuxGuestImage.builder().cacheDirectory(cacheDirectory).build().initramfs();
        assertEquals(first, second);
        assertEquals(written, Files.getLastModifiedTime(second), "the second build did not rewrite the archive");
        final Path other = LinuxGuestImage.builder().cacheDirectory(cacheDirectory).modules("e1000").build()
                .initramfs();
        assertTrue(!other.equals(first), "other contents get another cache entry: " + other);
        assertEquals(Set.of(first, other), cachedFiles(), "nothing else is left in the cache");
    }

    @Test
    void jvmsBuildingTheSameImageAtOnceAgreeOnOneCompleteArchive() throws Exception {
        final List<Process> builders = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            builders.add(ChildJvm.start(BuildGuestImageMain.class, cacheDirectory.toString()));
        }
        final List<String> printed = new ArrayList<>();
        for (final Process builder : builders) {
            printed.add(new String(builder.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
            assertTrue(builder.waitFor(120, TimeUnit.SECONDS), "builder JVM finished");
            assertEquals(0, builder.exitValue(), "builder JVM succeeded: " + printed);
        }
        assertEquals(1, printed.stream().distinct().count(), "all built the same archive: " + printed);
        final Path archive = Path.of(printed.get(0));
        assertEquals(Set.of(archive), cachedFiles(), "one archive and no partial files are left");
        assertTrue(NewcReader.read(archive).containsKey("init"), "the archive is complete");
    }

    private Set<Path> cachedFiles() throws Exception {
        try (Stream<Path> files = Files.walk(cacheDirectory)) {
            return files.filter(Files::isRegularFile).collect(Collectors.toSet());
        }
    }
}
