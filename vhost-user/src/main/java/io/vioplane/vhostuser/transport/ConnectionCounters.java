package io.vioplane.vhostuser.transport;

import io.vioplane.platform.runtime.CounterKind;
import io.vioplane.platform.runtime.CounterSet;
import io.vioplane.platform.runtime.CounterType;
import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.CountersFile;
import io.vioplane.vhostuser.protocol.Rejection;

import java.util.EnumSet;
import java.util.Set;

/**
 * The counters of one vhost-user connection: messages, replies and failures by kind, a {@link CounterSet}
 * published in the process's {@link CountersFile} (type {@link CounterType#CONNECTION}, labels
 * {@code vhost-user[LABEL] NAME}) when one is given, so that {@code vioplane stat} shows them while the connection
 * lives; readable after close. Single writer: the connection's event-loop thread.
 */
public final class ConnectionCounters extends CounterSet<ConnectionCounters.Kind> {
    /** What is counted. */
    public enum Kind implements CounterKind {
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

        @Override
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

    private static final Set<Kind> FAILURES = EnumSet.complementOf(EnumSet.of(Kind.MESSAGES, Kind.REPLIES));

    /**
     * @param file  where to publish, or null to keep the counts only in this process's memory
     * @param label identifies the connection in counter labels, e.g. the socket path and a sequence number
     */
    public ConnectionCounters(final CountersFile file, final String label) {
        super(file != null ? Counters.in(file) : Counters.inMemory(Kind.values().length), Kind.class,
                "vhost-user[" + label + "]", CounterType.CONNECTION);
    }

    /** @return the sum of every failure kind */
    public long failures() {
        return total(FAILURES);
    }
}
