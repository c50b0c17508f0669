package io.vioplane.virtioblk;

import io.vioplane.virtioblk.backend.RawImageBackend;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every behaviour of {@link VirtioBlkDeviceTest} with the image's I/O done inline by the queue's thread (the mode
 * chosen for files without non-blocking I/O, such as tmpfs), and the automatic choice itself.
 */
class InlineIoVirtioBlkDeviceTest extends VirtioBlkDeviceTest {
    @Override
    RawImageBackend.IoMode ioMode() {
        return RawImageBackend.IoMode.INLINE;
    }

    @Test
    void autoServesAnImageOnTmpfsInline() throws Exception {
        final Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.getFileStore(shm).type().equals("tmpfs"), "/dev/shm is tmpfs");
        final Path image = Files.createTempFile(shm, "vioplane-inline-", ".img");
        try {
            Files.write(image, new byte[1 << 16]);
            try (RawImageBackend backend = RawImageBackend.open(image, false, false)) {
                assertTrue(backend.inline());
                assertTrue(backend.name().contains("inline"), backend.name());
            }
            try (RawImageBackend backend = RawImageBackend.open(image, false, false,
                    RawImageBackend.IoMode.IO_URING)) {
                assertFalse(backend.inline(), "asked for io_uring explicitly");
            }
        } finally {
            Files.deleteIfExists(image);
        }
    }
}
