package io.vioplane.platform.testing.peers;

import java.nio.file.Path;

/**
 * A process that builds the standard guest image into the cache directory given as its only argument and
 * prints the initramfs path: lets a test race several JVMs building the same image.
 */
public final class BuildGuestImageMain {
    private BuildGuestImageMain() {
    }

    /** Entry point. */
    public static void main(final String[] args) {
        System.out.println(LinuxGuestImage.builder().cacheDirectory(Path.of(args[0])).build().initramfs());
    }
}
