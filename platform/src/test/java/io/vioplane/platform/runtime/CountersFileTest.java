package io.vioplane.platform.runtime;

import org.agrona.concurrent.status.AtomicCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CountersFileTest {
    @Test
    void aReaderSeesLabelsTypesAndLiveValues(@TempDir final Path directory) {
        try (CountersFile file = CountersFile.create(directory, "test writer", 64 * 128, 64 * 1024)) {
            final AtomicCounter packets = file.newCounter("q0 tx packets", CounterType.QUEUE);
            final AtomicCounter drops = file.newCounter("q0 drops: no buffer", CounterType.QUEUE);
            packets.incrementRelease();
            packets.incrementRelease();
            drops.incrementRelease();
            try (CountersFileReader reader = CountersFileReader.open(file.path())) {
                assertEquals(ProcessHandle.current().pid(), reader.pid());
                assertEquals("test writer", reader.description());
                final List<CountersFileReader.Counter> counters = reader.counters();
                assertEquals(2, counters.size());
                assertEquals("q0 tx packets", counters.get(0).label());
                assertEquals(CounterType.QUEUE, counters.get(0).typeId());
                assertEquals(2, counters.get(0).value());
                packets.incrementRelease();
                assertEquals(3, reader.counters().get(0).value(), "values are live, not a snapshot");
            }
        }
    }

    @Test
    void errorLogRecordsEachKindOncePrintsItOnceAndCountsAll(@TempDir final Path directory) {
        final ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (CountersFile file = CountersFile.create(directory, "errors", 16 * 128, 64 * 1024)) {
            final ErrorLog log = new ErrorLog(file.errorLog(), file.newCounter("errors", CounterType.PROCESS),
                    new PrintStream(printed, true, StandardCharsets.UTF_8));
            final IllegalStateException same = new IllegalStateException("guest gave a descriptor loop");
            for (int i = 0; i < 1000; i++) {
                log.onError(same);
            }
            log.onError(new IllegalArgumentException("another kind"));
            assertEquals(1001, log.count());
            try (CountersFileReader reader = CountersFileReader.open(file.path())) {
                final List<CountersFileReader.ErrorRecord> errors = reader.errors();
                assertEquals(2, errors.size());
                assertEquals(1000, errors.get(0).observationCount());
                assertTrue(errors.get(0).text().contains("descriptor loop"));
            }
        }
        final String output = printed.toString(StandardCharsets.UTF_8);
        assertEquals(2, output.lines().count(), output);
    }

    @Test
    void closeDeletesTheFileAndStaleFilesOfDeadProcessesAreRemoved(@TempDir final Path directory) throws IOException {
        final Path stale = directory.resolve("999999999.counters");
        Files.writeString(stale, "left by a dead process");
        final Path path;
        try (CountersFile file = CountersFile.create(directory, "x", 128, 1024)) {
            path = file.path();
            assertTrue(Files.exists(path));
            assertFalse(Files.exists(stale), "a file whose process is gone is removed");
            assertEquals(List.of(path), CountersFileReader.liveFiles(directory));
        }
        assertFalse(Files.exists(path));
    }

    @Test
    void refusesAFileThatIsNotOurs(@TempDir final Path directory) throws IOException {
        final Path bogus = directory.resolve("1.counters");
        Files.write(bogus, new byte[4096]);
        assertThrows(IllegalArgumentException.class, () -> CountersFileReader.open(bogus));
    }
}
