package io.vioplane.platform.runtime;

import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.ErrorLogReader;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.vioplane.platform.runtime.CountersFileLayout.*;

/**
 * Reads another process's {@link CountersFile} while it runs: the values are live, read with acquire
 * ordering from the shared mapping.
 */
public final class CountersFileReader implements AutoCloseable {
    /** One counter as read at one moment. */
    public record Counter(int id, int typeId, String label, long value) {
    }

    /** One distinct error and how often it was seen. */
    public record ErrorRecord(int observationCount, long firstEpochMs, long lastEpochMs, String text) {
    }

    private final Path path;
    private final MappedByteBuffer mapping;
    private final long pid;
    private final long startEpochMs;
    private final String description;
    private final CountersReader counters;
    private final UnsafeBuffer errors;

    private CountersFileReader(final Path path, final MappedByteBuffer mapping) {
        this.path = path;
        this.mapping = mapping;
        final UnsafeBuffer whole = new UnsafeBuffer(mapping);
        if (whole.capacity() < HEADER_BYTES || whole.getInt(MAGIC_OFFSET) != MAGIC) {
            throw new IllegalArgumentException(path + " is not a vioplane counters file");
        }
        final int version = whole.getIntAcquire(VERSION_OFFSET);
        if (version != VERSION) {
            throw new IllegalArgumentException(path + (version == 0 ? " is still being set up" : " has version " + version));
        }
        pid = whole.getLong(PID_OFFSET);
        startEpochMs = whole.getLong(START_TIME_OFFSET);
        final int metadataBytes = whole.getInt(METADATA_LENGTH_OFFSET);
        final int valuesBytes = whole.getInt(VALUES_LENGTH_OFFSET);
        final int errorLogBytes = whole.getInt(ERROR_LOG_LENGTH_OFFSET);
        final int descriptionLength = Math.clamp(whole.getInt(DESCRIPTION_LENGTH_OFFSET), 0, MAX_DESCRIPTION_BYTES);
        if (metadataBytes < 0 || valuesBytes < 0 || errorLogBytes < 0
                || (long) HEADER_BYTES + metadataBytes + valuesBytes + errorLogBytes > whole.capacity()) {
            throw new IllegalArgumentException(path + " has a header that does not match its size");
        }
        final byte[] text = new byte[descriptionLength];
        whole.getBytes(DESCRIPTION_OFFSET, text);
        description = new String(text, StandardCharsets.US_ASCII);
        counters = new CountersReader(new UnsafeBuffer(mapping, HEADER_BYTES, metadataBytes),
                new UnsafeBuffer(mapping, HEADER_BYTES + metadataBytes, valuesBytes), StandardCharsets.US_ASCII);
        errors = new UnsafeBuffer(mapping, HEADER_BYTES + metadataBytes + valuesBytes, errorLogBytes);
    }

    /** Maps the counters file at {@code path} read-only. */
    public static CountersFileReader open(final Path path) {
        final MappedByteBuffer mapping = IoUtil.mapExistingFile(path.toFile(), FileChannel.MapMode.READ_ONLY, "counters");
        try {
            return new CountersFileReader(path, mapping);
        } catch (RuntimeException e) {
            IoUtil.unmap(mapping);
            throw e;
        }
    }

    /**
     * @param directory a run directory
     * @return the counters files there whose process is alive, in pid order
     */
    public static List<Path> liveFiles(final Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        final List<Path> live = new ArrayList<>();
        try (var files = Files.list(directory)) {
            files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).forEach(f -> {
                final String name = f.getFileName().toString();
                try {
                    if (RunDirectory.isAlive(Long.parseLong(name, 0, name.length() - SUFFIX.length(), 10))) {
                        live.add(f);
                    }
                } catch (NumberFormatException ignored) {
                    // not one of ours
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory, e);
        }
        live.sort((a, b) -> Long.compare(pidOf(a), pidOf(b)));
        return live;
    }

    private static long pidOf(final Path file) {
        final String name = file.getFileName().toString();
        return Long.parseLong(name, 0, name.length() - SUFFIX.length(), 10);
    }

    /** @return the file read */
    public Path path() {
        return path;
    }

    /** @return the writer's process id */
    public long pid() {
        return pid;
    }

    /** @return when the writer started, epoch milliseconds */
    public long startEpochMs() {
        return startEpochMs;
    }

    /** @return what the writer said it is */
    public String description() {
        return description;
    }

    /** @return every allocated counter with its current value */
    public List<Counter> counters() {
        final List<Counter> result = new ArrayList<>();
        counters.forEach((value, id, label) -> result.add(new Counter(id, counters.getCounterTypeId(id), label, value)));
        return result;
    }

    /** @return the distinct errors the writer recorded */
    public List<ErrorRecord> errors() {
        final List<ErrorRecord> result = new ArrayList<>();
        ErrorLogReader.read(errors, (count, first, last, text) -> result.add(new ErrorRecord(count, first, last, text)));
        return result;
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        IoUtil.unmap(mapping);
    }
}
