package io.vioplane.vhostuser.protocol;

/** Why the {@link Validator} refused a message; each kind has its own failure counter. */
public enum Rejection {
    /** A request id outside 1..43. */
    UNKNOWN_REQUEST,
    /** Flags without version 1, or with REPLY set on a request. */
    BAD_FLAGS,
    /** A payload shorter or longer than the request's layout allows. */
    BAD_SIZE,
    /** More or fewer descriptors than the request carries, or NOFD inconsistent with them. */
    BAD_FD_COUNT,
    /** A field out of range: vring index, region count, overlapping or overflowing regions, config size... */
    BAD_FIELD
}
