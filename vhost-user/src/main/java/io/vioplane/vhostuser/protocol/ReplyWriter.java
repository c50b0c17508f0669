package io.vioplane.vhostuser.protocol;

import java.lang.foreign.MemorySegment;

/**
 * Where a request handler writes the explicit reply body of a request that has one
 * ({@link VhostUserRequest#hasExplicitReply}); QEMU {@code docs/interop/vhost-user.rst}, "Message types", each
 * message's "reply payload". Exactly one method is called per such request; the connection adds the header
 * (same request id, flags version|REPLY) and sends it after {@code handle} returns.
 *
 * <p>Requests without an explicit reply must not write one: their REPLY_ACK acknowledgement is the connection's.
 */
public interface ReplyWriter {
    /**
     * Replies with a u64 (GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_MAX_MEM_SLOTS, GET_STATUS,
     * IOTLB_MSG).
     */
    void u64(long value);

    /** Replies with a vring state {u32 index, u32 num} (GET_VRING_BASE). */
    void vringState(int index, int num);

    /** Replies with an empty body (SET_LOG_BASE with LOG_SHMFD; GET_CONFIG failure). */
    void empty();

    /** Replies with {@code body} as is (at most {@link VhostUserHeader#MAX_PAYLOAD_BYTES}). */
    void bytes(MemorySegment body);

    /**
     * Replies with {@code body} and one descriptor attached (GET_INFLIGHT_FD, GET_SHARED_OBJECT,
     * SET_DEVICE_STATE_FD, POSTCOPY_ADVISE). The handler keeps ownership of {@code fd}: the kernel passes the peer a
     * copy. {@code fd} must stay open until the connection closes: when the socket is full the reply goes out
     * later (handlers keep such descriptors anyway: the inflight buffer, a shared object).
     */
    void bytes(MemorySegment body, int fd);

    /**
     * Replies with a config payload {u32 offset, u32 size, u32 flags, u8[size]} (GET_CONFIG): the first
     * {@code size} bytes of {@code data}.
     */
    void config(int offset, int size, int flags, MemorySegment data);

    /**
     * Replies to GET_INFLIGHT_FD with {u64 mmap_size, u64 mmap_offset, u16 num_queues, u16 queue_size} and the
     * shared inflight buffer's descriptor (the handler keeps ownership of {@code fd} and keeps it open, as in
     * {@link #bytes(MemorySegment, int)}).
     */
    void inflight(long mmapSizeBytes, long mmapOffsetBytes, int queueCount, int queueSize, int fd);
}
