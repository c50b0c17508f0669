package io.vioplane.vmx.loader;

import io.vioplane.platform.memory.GuestMemory;
import io.vioplane.vmx.testkit.GuestImages;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random corruptions of a real image (bytes in the ELF and program headers, notes, and anywhere): the loader
 * either accepts the image and places it inside guest memory, or refuses it with an {@link ImageException};
 * never any other exception. A fixed seed, so a failure is reproducible; any finding becomes a named case in
 * {@link HostileImages}.
 */
class MutatedImageTest {
    private static final int ROUNDS = 1000;

    @Test
    void corruptedImagesAreRefusedCleanlyOrLoadedInsideMemory() throws IOException {
        final byte[] original = Files.readAllBytes(GuestImages.require("interrupts"));
        final Random random = new Random(1111);
        try (GuestMemory memory = GuestMemory.ofMemFd(0, 16L << 20)) {
            for (int round = 0; round < ROUNDS; round++) {
                final byte[] image = original.clone();
                final int flips = 1 + random.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    final int limit = random.nextBoolean() ? Math.min(image.length, 64 + 56 * 4) : image.length;
                    final int at = random.nextInt(limit);
                    image[at] = random.nextInt(3) == 0 ? (byte) 0xFF : (byte) random.nextInt(256);
                }
                try {
                    ImageLoader.load(ElfImage.parse(image), memory, 3);
                } catch (ImageException expected) {
                    // refused with a reason: what a corrupted image should get
                } catch (RuntimeException e) {
                    fail("round " + round + ": " + e, e);
                }
            }
        }
    }
}
