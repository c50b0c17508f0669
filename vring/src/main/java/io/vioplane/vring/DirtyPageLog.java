package io.vioplane.vring;

/**
 * Records which guest pages a device wrote, so that live migration can copy them again (vhost's dirty log:
 * VHOST_F_LOG_ALL; QEMU docs/interop/vhost-user.rst, "Migration"). Called on the data-plane thread after each
 * write into guest memory: used-ring entries and indices, and buffer contents.
 */
@FunctionalInterface
public interface DirtyPageLog {
    /** A log that records nothing: the state when the front-end is not migrating. */
    DirtyPageLog NONE = (gpa, lengthBytes) -> { };

    /** Marks the pages of {@code [gpa, gpa + lengthBytes)} dirty. */
    void mark(long gpa, long lengthBytes);
}
