package io.vioplane.vmx.testkit;

import io.vioplane.platform.testing.Requirements;

import java.nio.file.Files;
import java.nio.file.Path;

/** The guest images the build compiled (src/main/guest), found through the {@code vioplane.guests} property. */
public final class GuestImages {
    private GuestImages() {
    }

    /** @return the image of program {@code name}; skips (or strictly fails) the test when it was not built */
    public static Path require(final String name) {
        final String directory = System.getProperty("vioplane.guests", "target/guests");
        final Path image = Path.of(directory, name + ".elf");
        Requirements.require(Files.isRegularFile(image), "guest image " + image + " (gcc and binutils to build it)");
        return image;
    }

    /** @return how many descriptors this process has open */
    public static int openDescriptors() throws java.io.IOException {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            return (int) entries.count();
        }
    }
}
