package io.vioplane.cli.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Keeps the protocol recordings that guest tests make against the real QEMU, when
 * {@code VIOPLANE_KEEP_RECORDINGS=DIR} is set: that is how the recordings replayed by the vhost-user module's
 * {@code QemuRecordingReplayTest} were made ({@code VIOPLANE_KEEP_RECORDINGS=$PWD/vhost-user/src/test/resources/
 * qemu-recordings ./test -pl cli -am -Dtest=...}).
 */
final class ProtocolRecordings {
    private ProtocolRecordings() {
    }

    /** Copies {@code recording} to {@code name}.rec in the directory the environment names, if it names one. */
    static void keep(final Path recording, final String name) {
        final String directory = System.getenv("VIOPLANE_KEEP_RECORDINGS");
        if (directory == null || directory.isBlank() || !Files.isRegularFile(recording)) {
            return;
        }
        try {
            Files.createDirectories(Path.of(directory));
            Files.copy(recording, Path.of(directory, name + ".rec"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("keeping the protocol recording " + name, e);
        }
    }
}
