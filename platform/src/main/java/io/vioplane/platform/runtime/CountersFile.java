package io.vioplane.platform.runtime;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.vioplane.platform.runtime.CountersFileLayout.*;

/**
 * This process's counters, in a memory-mapped file that {@code vioplane stat} in another process reads
 * while we run (the Aeron CnC file pattern over Agrona's {@link CountersManager}). Also holds the process's
 * {@link DistinctErrorLog}.
 *
 * <p>Counters are single-writer: the data-plane thread that owns a queue updates its counters with
 * {@link AtomicCounter#incrementRelease()} (no lock, no allocation). Allocating and freeing counters is
 * synchronized on this object. The file is deleted on {@link #close()}; files left by dead processes are
 * removed when the next one is created.
 */
public final class CountersFile implements AutoCloseable {
    /** Default bytes of counter values: 2048 counters of 128 bytes. */
    public static final int DEFAULT_VALUES_BYTES = 2048 * CountersReader.COUNTER_LENGTH;
    /** Default bytes of error log. */
    public static final int DEFAULT_ERROR_LOG_BYTES = 1 << 20;

    private final Path path;
    private final MappedByteBuffer mapping;
    private final CountersManager counters;
    private final DistinctErrorLog errorLog;
    private boolean closed;

    private CountersFile(final Path path, final MappedByteBuffer mapping, final CountersManager counters,
                         final DistinctErrorLog errorLog) {
        this.path = path;
        this.mapping = mapping;
        this.counters = counters;
        this.errorLog = errorLog;
    }

    /** Creates this process's counters file in the {@link RunDirectory} with default sizes. */
    public static CountersFile create(final String description) {
        return create(RunDirectory.resolve(), description, DEFAULT_VALUES_BYTES, DEFAULT_ERROR_LOG_BYTES);
    }

    /**
     * @param directory     where to create {@code PID.counters}
     * @param description   what this process is, shown by {@code vioplane stat}
     * @param valuesBytes   bytes of counter values, a multiple of {@link CountersReader#COUNTER_LENGTH}
     * @param errorLogBytes bytes of error log, a multiple of 8
     */
    public static CountersFile create(final Path directory, final String description, final int valuesBytes,
                                      final int errorLogBytes) {
        if (valuesBytes <= 0 || valuesBytes % CountersReader.COUNTER_LENGTH != 0) {
            throw new IllegalArgumentException("values bytes must be a positive multiple of "
                    + CountersReader.COUNTER_LENGTH + ": " + valuesBytes);
        }
        if (errorLogBytes <= 0 || errorLogBytes % 8 != 0) {
            throw new IllegalArgumentException("error log bytes must be a positive multiple of 8: " + errorLogBytes);
        }
        final long pid = ProcessHandle.current().pid();
        final int metadataBytes = valuesBytes * (CountersReader.METADATA_LENGTH / CountersReader.COUNTER_LENGTH);
        final long totalBytes = (long) HEADER_BYTES + metadataBytes + valuesBytes + errorLogBytes;
        final Path path = directory.resolve(pid + SUFFIX);
        try {
            Files.createDirectories(directory);
            removeStaleFiles(directory);
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare counters directory " + directory, e);
        }
        final MappedByteBuffer mapping = IoUtil.mapNewFile(path.toFile(), totalBytes, true);
        final UnsafeBuffer header = new UnsafeBuffer(mapping, 0, HEADER_BYTES);
        final byte[] descriptionBytes = description.getBytes(StandardCharsets.US_ASCII);
        final int descriptionLength = Math.min(descriptionBytes.length, MAX_DESCRIPTION_BYTES);
        header.putInt(MAGIC_OFFSET, MAGIC);
        header.putLong(PID_OFFSET, pid);
        header.putLong(START_TIME_OFFSET, System.currentTimeMillis());
        header.putInt(METADATA_LENGTH_OFFSET, metadataBytes);
        header.putInt(VALUES_LENGTH_OFFSET, valuesBytes);
        header.putInt(ERROR_LOG_LENGTH_OFFSET, errorLogBytes);
        header.putInt(DESCRIPTION_LENGTH_OFFSET, descriptionLength);
        header.putBytes(DESCRIPTION_OFFSET, descriptionBytes, 0, descriptionLength);
        final AtomicBuffer metadata = new UnsafeBuffer(mapping, HEADER_BYTES, metadataBytes);
        final AtomicBuffer values = new UnsafeBuffer(mapping, HEADER_BYTES + metadataBytes, valuesBytes);
        final AtomicBuffer errors = new UnsafeBuffer(mapping, HEADER_BYTES + metadataBytes + valuesBytes, errorLogBytes);
        final CountersManager counters = new CountersManager(metadata, values, StandardCharsets.US_ASCII);
        final DistinctErrorLog errorLog = new DistinctErrorLog(errors, SystemEpochClock.INSTANCE, StandardCharsets.UTF_8);
        header.putIntRelease(VERSION_OFFSET, VERSION);
        return new CountersFile(path, mapping, counters, errorLog);
    }

    private static void removeStaleFiles(final Path directory) throws IOException {
        try (var files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                final String name = file.getFileName().toString();
                if (!name.endsWith(SUFFIX)) {
                    continue;
                }
                try {
                    final long pid = Long.parseLong(name, 0, name.length() - SUFFIX.length(), 10);
                    if (!RunDirectory.isAlive(pid)) {
                        Files.deleteIfExists(file);
                    }
                } catch (NumberFormatException ignored) {
                    // not one of ours
                }
            }
        }
    }

    /** @return the file's path */
    public Path path() {
        return path;
    }

    /**
     * Allocates a counter.
     *
     * @param label  what it counts, e.g. {@code "vhost-user-net[/tmp/s0] q0 tx packets"}
     * @param typeId a {@link CounterType} id grouping counters of one kind
     */
    public synchronized AtomicCounter newCounter(final String label, final int typeId) {
        return counters.newCounter(label, typeId);
    }

    /** Frees a counter's slot for reuse; a freed counter must not be used again. */
    public synchronized void free(final AtomicCounter counter) {
        counter.close();
    }

    /** @return a reader over this process's own counters */
    public CountersReader reader() {
        return counters;
    }

    /** @return the distinct error log in this file */
    public DistinctErrorLog errorLog() {
        return errorLog;
    }

    /** Unmaps and deletes the file. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        IoUtil.unmap(mapping);
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // the next process removes it as stale
        }
    }
}
