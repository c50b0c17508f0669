package io.vioplane.vhostuser.transport;

import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.vhostuser.protocol.Rejection;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The counters of one vhost-user connection: messages, replies and failures by kind. Always kept in this object
 * (tests read them); also published in the process's {@link CountersFile} (type
 * {@link CounterType#CONNECTION}, labels {@code vhost-user[LABEL] NAME}) when one is given, so that
 * {@code vioplane stat} shows them while the connection lives. Single writer: the connection's event-loop thread.
 */
public final class ConnectionCounters implements AutoCloseable {
    /** What is counted. */
    public enum Kind {
        /** Complete messages received. */
        MESSAGES("messages"),
        /** Replies sent: explicit bodies and REPLY_ACK acknowledgements. */
        REPLIES("replies"),
        /** Failures reported to the front-end (non-zero ack or status, empty GET_CONFIG). */
        FAILURE_REPLIES("failure replies"),
        /** Refused by the validator: unknown request id. */
        UNKNOWN_REQUEST("unknown requests"),
        /** Refused by the validator: bad flags. */
        BAD_FLAGS("bad flags"),
        /** Refused by the validator: payload size. */
        BAD_SIZE("bad sizes"),
        /** Refused by the validator: descriptor count or NOFD. */
        BAD_FD_COUNT("bad fd counts"),
        /** Refused by the validator: a field out of range. */
        BAD_FIELD("bad fields"),
        /** Refused by the handler ({@link io.vioplane.vhostuser.protocol.VhostUserException}). */
        REFUSED("refused by handler"),
        /** The handler failed (an unexpected exception, a missing or unwanted reply body). */
        HANDLER_ERRORS("handler errors"),
        /** Broken framing: oversize or bad-version header, more than 8 fds, EOF inside a message, socket errors. */
        FRAMING_ERRORS("framing errors");

        private final String label;

        Kind(final String label) {
            this.label = label;
        }

        /** @return the counter label suffix */
        public String label() {
            return label;
        }

        /** @return the kind that counts validator rejections of type {@code rejection} */
        public static Kind of(final Rejection rejection) {
            return switch (rejection) {
                case UNKNOWN_REQUEST -> UNKNOWN_REQUEST;
                case BAD_FLAGS -> BAD_FLAGS;
                case BAD_SIZE -> BAD_SIZE;
                case BAD_FD_COUNT -> BAD_FD_COUNT;
                case BAD_FIELD -> BAD_FIELD;
            };
        }
    }

    private static final Kind[] KINDS = Kind.values();

    private final long[] values = new long[KINDS.length];
    private final AtomicCounter[] published;
    private final CountersFile file;

    /**
     * @param file  where to publish, or null to keep the counts only here
     * @param label identifies the connection in counter labels, e.g. the socket path and a sequence number
     */
    public ConnectionCounters(final CountersFile file, final String label) {
        this.file = file;
        if (file == null) {
            published = null;
        } else {
            published = new AtomicCounter[KINDS.length];
            for (Kind kind : KINDS) {
                published[kind.ordinal()] = file.newCounter("vhost-user[" + label + "] " + kind.label(),
                        CounterType.CONNECTION);
            }
        }
    }

    /** Adds one to {@code kind}. */
    public void increment(final Kind kind) {
        values[kind.ordinal()]++;
        if (published != null) {
            published[kind.ordinal()].incrementRelease();
        }
    }

    /** @return the count of {@code kind} (read on the connection's thread, or after it closed) */
    public long get(final Kind kind) {
        return values[kind.ordinal()];
    }

    /** @return the sum of every failure kind */
    public long failures() {
        long sum = 0;
        for (Kind kind : KINDS) {
            if (kind != Kind.MESSAGES && kind != Kind.REPLIES) {
                sum += values[kind.ordinal()];
            }
        }
        return sum;
    }

    /** Frees the published counters (the counts kept here stay readable). */
    @Override
    public void close() {
        if (published != null) {
            for (int i = 0; i < published.length; i++) {
                if (published[i] != null) {
                    file.free(published[i]);
                    published[i] = null;
                }
            }
        }
    }

    @Override
    public String toString() {
        final StringBuilder text = new StringBuilder("{");
        for (Kind kind : KINDS) {
            if (values[kind.ordinal()] != 0) {
                text.append(text.length() > 1 ? ", " : "").append(kind.label()).append('=')
                        .append(values[kind.ordinal()]);
            }
        }
        return text.append('}').toString();
    }
}
