package io.vioplane.virtioblk;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.virtioblk.backend.RawImageBackend;
import io.vioplane.virtioblk.testkit.BlkDriver;
import io.vioplane.virtioblk.testkit.HostileBlkRequests;
import io.vioplane.vring.VirtioFeature;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every hostile request of {@link HostileBlkRequests}: refused with its status, counted, nothing written. */
class HostileBlkRequestTest {
    @TempDir
    Path dir;

    static List<HostileBlkRequests.Attack> attacks() {
        return HostileBlkRequests.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void refusedCountedAndNothingWritten(final HostileBlkRequests.Attack attack) throws Exception {
        final Path image = dir.resolve("disk.img");
        final byte[] original = new byte[(int) HostileBlkRequests.CAPACITY_SECTORS * 512];
        for (int i = 0; i < original.length; i++) {
            original[i] = (byte) (i * 7 + 1);
        }
        Files.write(image, original);
        final BlkLimits limits = new BlkLimits(126, 1 << 20, 1 << 16, 16, HostileBlkRequests.DISCARD_ALIGNMENT,
                1 << 16, 16);
        final long features = VirtioBlkFeature.offered(false, 1) & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        try (RawImageBackend backend = RawImageBackend.open(image, false, false);
             BlkDriver blk = BlkDriver.start(backend, limits, features, true, Counters.inMemory(4096))) {
            attack.build().accept(blk);
            final int token = blk.submit();
            blk.awaitUsed(1);
            assertEquals(attack.status(), blk.status(token), "status byte");
            assertEquals(attack.status() == BlkDriver.UNTOUCHED ? 0 : 1, blk.usedLength(token), "used length");
            assertEquals(1, blk.device().queueCounters(0).refused(attack.refusal()), "counted as " + attack.refusal());
            assertEquals(1, blk.device().queueCounters(0).refusedTotal(), "counted once");
            final long buffer = blk.allocate(512);
            assertEquals(BlkRequestType.S_OK, blk.header(BlkRequestType.IN, 0).writable(buffer, 512).status().run(),
                    "the queue still serves requests");
        }
        assertArrayEquals(original, Files.readAllBytes(image), "image untouched");
    }
}
