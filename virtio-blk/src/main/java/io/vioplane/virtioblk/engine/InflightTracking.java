package io.vioplane.virtioblk.engine;

/**
 * A record of the chains a queue has taken and not yet used, kept where it outlives the device's process
 * (vhost-user's inflight I/O tracking, QEMU docs/interop/vhost-user.rst "Inflight I/O tracking"): a restarted
 * device resubmits what its predecessor had not completed, so no acknowledged request is lost and none is used
 * twice. The engine calls these hooks in ring order: {@link #taken} after each pop, {@link #usedNext} before
 * the used element of a chain is published, {@link #usedPublished} after the used index covering it is visible.
 */
public interface InflightTracking {
    /** Tracks nothing. */
    InflightTracking NONE = new InflightTracking() {
        @Override
        public int resubmitCount() {
            return 0;
        }

        @Override
        public int resubmitHead(final int i) {
            throw new IndexOutOfBoundsException(i);
        }

        @Override
        public void taken(final int head) {
        }

        @Override
        public void usedNext(final int head) {
        }

        @Override
        public void usedPublished(final int head, final int usedIndex) {
        }
    };

    /** @return chains the previous instance had taken and not used, to take again before any new one */
    int resubmitCount();

    /** @return the head of resubmitted chain {@code i}, in the order they were first taken */
    int resubmitHead(int i);

    /** Chain {@code head} was taken. */
    void taken(int head);

    /** Chain {@code head}'s used element is about to be published. */
    void usedNext(int head);

    /** The used index is now {@code usedIndex}, covering chain {@code head}. */
    void usedPublished(int head, int usedIndex);
}
