package io.vioplane.platform.runtime;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Where components allocate their counters: the process's {@link CountersFile} (visible to
 * {@code vioplane stat}), or plain memory for tests and embedded use. Allocation is synchronized; updates
 * through the returned {@link AtomicCounter} are lock-free (single writer: use {@code incrementRelease}).
 */
public final class Counters {
    private final CountersFile file;
    private final CountersManager manager;

    private Counters(final CountersFile file, final CountersManager manager) {
        this.file = file;
        this.manager = manager;
    }

    /** @return counters published in {@code file} */
    public static Counters in(final CountersFile file) {
        return new Counters(file, null);
    }

    /** @return counters in this process's memory only, room for {@code capacity} counters */
    public static Counters inMemory(final int capacity) {
        final int valuesBytes = capacity * CountersReader.COUNTER_LENGTH;
        final int metadataBytes = capacity * CountersReader.METADATA_LENGTH;
        return new Counters(null, new CountersManager(new UnsafeBuffer(ByteBuffer.allocateDirect(metadataBytes)),
                new UnsafeBuffer(ByteBuffer.allocateDirect(valuesBytes)), StandardCharsets.US_ASCII));
    }

    /** Allocates a counter labelled {@code label} of kind {@code typeId} ({@link CounterType}). */
    public synchronized AtomicCounter counter(final String label, final int typeId) {
        return file != null ? file.newCounter(label, typeId) : manager.newCounter(label, typeId);
    }

    /** @return a reader over every counter allocated here */
    public CountersReader reader() {
        return file != null ? file.reader() : manager;
    }

    /** Frees a counter's slot; the counter must not be used afterwards. */
    public synchronized void free(final AtomicCounter counter) {
        counter.close();
    }
}
