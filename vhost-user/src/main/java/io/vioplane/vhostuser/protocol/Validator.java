package io.vioplane.vhostuser.protocol;

import static io.vioplane.vhostuser.protocol.VhostUserMessage.*;
import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;

/**
 * One rule per request type (QEMU {@code docs/interop/vhost-user.rst}, "Message types": each message's request
 * payload and ancillary data): payload size (exact, or a range where front-ends differ), the descriptors it may
 * carry, and the ranges of the fields the handler relies on. A request that passes can be read with every
 * {@link VhostUserMessage} accessor its type uses.
 *
 * <table>
 *   <caption>rules</caption>
 *   <tr><th>requests</th><th>payload bytes</th><th>fds</th><th>fields</th></tr>
 *   <tr><td>GET_FEATURES, SET_OWNER, RESET_OWNER, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_MAX_MEM_SLOTS,
 *       GET_STATUS, POSTCOPY_*, RESET_DEVICE, CHECK_DEVICE_STATE</td><td>0..8 (no payload; some front-ends send
 *       a zero u64)</td><td>0</td><td></td></tr>
 *   <tr><td>SET_LOG_FD, SET_BACKEND_REQ_FD, GPU_SET_SOCKET</td><td>0..8</td><td>1</td><td></td></tr>
 *   <tr><td>SET_FEATURES, SET_PROTOCOL_FEATURES, SEND_RARP, NET_SET_MTU, SET_STATUS, CLOSE_CRYPTO_SESSION</td>
 *       <td>8</td><td>0</td><td></td></tr>
 *   <tr><td>SET_VRING_NUM/BASE, GET_VRING_BASE, VRING_KICK, SET_VRING_ENABLE, SET_VRING_ENDIAN</td><td>8</td>
 *       <td>0</td><td>index &lt; 256; ENABLE and ENDIAN num 0 or 1</td></tr>
 *   <tr><td>SET_VRING_ADDR</td><td>40</td><td>0</td><td>index &lt; 256</td></tr>
 *   <tr><td>SET_VRING_KICK/CALL/ERR</td><td>8</td><td>0 with NOFD, else 1</td><td></td></tr>
 *   <tr><td>SET_MEM_TABLE</td><td>8 + 32 n .. 264</td><td>n</td><td>n &lt;= 8; regions non-empty, not
 *       wrapping, guest ranges disjoint</td></tr>
 *   <tr><td>SET_LOG_BASE</td><td>16</td><td>1 (LOG_SHMFD)</td><td>size + offset do not wrap</td></tr>
 *   <tr><td>IOTLB_MSG</td><td>26..32</td><td>0</td><td>perm 0..3, type 1..4</td></tr>
 *   <tr><td>GET_CONFIG, SET_CONFIG</td><td>12 + size</td><td>0</td><td>offset + size &lt;= 256</td></tr>
 *   <tr><td>CREATE_CRYPTO_SESSION</td><td>&gt;= 8</td><td>0</td><td></td></tr>
 *   <tr><td>GET_INFLIGHT_FD / SET_INFLIGHT_FD</td><td>20..24</td><td>0 / 1</td><td>num_queues &lt;= 256</td></tr>
 *   <tr><td>ADD_MEM_REG / REM_MEM_REG</td><td>40</td><td>1 / 0..1</td><td>region non-empty, not wrapping</td></tr>
 *   <tr><td>GET_SHARED_OBJECT</td><td>16 (UUID)</td><td>0</td><td></td></tr>
 *   <tr><td>SET_DEVICE_STATE_FD</td><td>8</td><td>1</td><td></td></tr>
 * </table>
 *
 * <p>Every request must carry version 1 in its flags and must not carry REPLY. Unknown request ids are refused.
 * One instance per connection; {@link #validate} allocates nothing when the message is valid and describes the
 * problem in {@link #reason()} when it is not.
 */
public final class Validator {
    private static final int NO_PAYLOAD_MAX_BYTES = 8;

    private String reason = "";

    /** Creates a validator. */
    public Validator() {
    }

    /**
     * @return null if {@code message} is valid, else why not ({@link #reason()} says more)
     */
    public Rejection validate(final VhostUserMessage message) {
        final int request = message.request();
        final int flags = message.flags();
        if (!VhostUserRequest.isKnown(request)) {
            return reject(Rejection.UNKNOWN_REQUEST, "unknown request id " + Integer.toUnsignedString(request));
        }
        if (!VhostUserHeader.hasVersion1(flags) || (flags & VhostUserHeader.FLAG_REPLY) != 0) {
            return reject(Rejection.BAD_FLAGS, "flags 0x" + Integer.toHexString(flags)
                    + " (a request carries version 1 and no REPLY)");
        }
        return switch (request) {
            case GET_FEATURES, SET_OWNER, RESET_OWNER, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_MAX_MEM_SLOTS,
                 GET_STATUS, POSTCOPY_ADVISE, POSTCOPY_LISTEN, POSTCOPY_END, RESET_DEVICE, CHECK_DEVICE_STATE ->
                    sizeAndFds(message, 0, NO_PAYLOAD_MAX_BYTES, 0, 0);
            case SET_LOG_FD, SET_BACKEND_REQ_FD, GPU_SET_SOCKET -> sizeAndFds(message, 0, NO_PAYLOAD_MAX_BYTES, 1, 1);
            case SET_FEATURES, SET_PROTOCOL_FEATURES, SEND_RARP, NET_SET_MTU, SET_STATUS, CLOSE_CRYPTO_SESSION ->
                    sizeAndFds(message, U64_BYTES, U64_BYTES, 0, 0);
            case SET_VRING_NUM, SET_VRING_BASE, GET_VRING_BASE, VRING_KICK -> vringState(message, false);
            case SET_VRING_ENABLE, SET_VRING_ENDIAN -> vringState(message, true);
            case SET_VRING_ADDR -> vringAddress(message);
            case SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR -> vringFd(message);
            case SET_MEM_TABLE -> memoryTable(message);
            case SET_LOG_BASE -> log(message);
            case IOTLB_MSG -> iotlb(message);
            case GET_CONFIG, SET_CONFIG -> config(message);
            case CREATE_CRYPTO_SESSION -> sizeAndFds(message, U64_BYTES, VhostUserHeader.MAX_PAYLOAD_BYTES, 0, 0);
            case GET_INFLIGHT_FD -> inflight(message, 0);
            case SET_INFLIGHT_FD -> inflight(message, 1);
            case ADD_MEM_REG -> singleRegion(message, 1, 1);
            case REM_MEM_REG -> singleRegion(message, 0, 1);
            case GET_SHARED_OBJECT -> sizeAndFds(message, 16, 16, 0, 0);
            case SET_DEVICE_STATE_FD -> sizeAndFds(message, U64_BYTES, U64_BYTES, 1, 1);
            default -> reject(Rejection.UNKNOWN_REQUEST, "no rule for request " + request);
        };
    }

    /** @return what was wrong with the last message {@link #validate} refused */
    public String reason() {
        return reason;
    }

    private Rejection reject(final Rejection rejection, final String why) {
        reason = why;
        return rejection;
    }

    private Rejection sizeAndFds(final VhostUserMessage message, final int minBytes, final int maxBytes,
                                 final int minFds, final int maxFds) {
        final int size = message.size();
        if (size < minBytes || size > maxBytes) {
            return reject(Rejection.BAD_SIZE, VhostUserRequest.name(message.request()) + " payload of " + size
                    + " bytes; expected " + range(minBytes, maxBytes));
        }
        final int fds = message.fdCount();
        if (fds < minFds || fds > maxFds) {
            return reject(Rejection.BAD_FD_COUNT, VhostUserRequest.name(message.request()) + " carried " + fds
                    + " descriptors; expected " + range(minFds, maxFds));
        }
        return null;
    }

    private Rejection vringState(final VhostUserMessage message, final boolean numIsBoolean) {
        final Rejection shape = sizeAndFds(message, VRING_STATE_BYTES, VRING_STATE_BYTES, 0, 0);
        if (shape != null) {
            return shape;
        }
        final Rejection index = vringIndex(message, message.vringIndex());
        if (index != null) {
            return index;
        }
        if (numIsBoolean && Integer.compareUnsigned(message.vringNum(), 1) > 0) {
            return reject(Rejection.BAD_FIELD, VhostUserRequest.name(message.request()) + " num "
                    + Integer.toUnsignedString(message.vringNum()) + " is neither 0 nor 1");
        }
        return null;
    }

    private Rejection vringAddress(final VhostUserMessage message) {
        final Rejection shape = sizeAndFds(message, VRING_ADDR_BYTES, VRING_ADDR_BYTES, 0, 0);
        return shape != null ? shape : vringIndex(message, message.addrIndex());
    }

    private Rejection vringIndex(final VhostUserMessage message, final int index) {
        if (Integer.compareUnsigned(index, MAX_VRINGS) >= 0) {
            return reject(Rejection.BAD_FIELD, VhostUserRequest.name(message.request()) + " vring index "
                    + Integer.toUnsignedString(index) + " is not below " + MAX_VRINGS);
        }
        return null;
    }

    private Rejection vringFd(final VhostUserMessage message) {
        final Rejection shape = sizeAndFds(message, U64_BYTES, U64_BYTES, 0, 1);
        if (shape != null) {
            return shape;
        }
        final boolean noFd = message.fdIndexNoFd();
        if (noFd != (message.fdCount() == 0)) {
            return reject(Rejection.BAD_FD_COUNT, VhostUserRequest.name(message.request()) + " for vring "
                    + message.fdIndexVring() + (noFd ? " has NOFD set but carried a descriptor"
                    : " has NOFD clear but carried no descriptor"));
        }
        return null;
    }

    private Rejection memoryTable(final VhostUserMessage message) {
        final int size = message.size();
        if (size < MEMORY_TABLE_HEADER_BYTES) {
            return reject(Rejection.BAD_SIZE, "SET_MEM_TABLE payload of " + size + " bytes holds no region count");
        }
        final int count = message.regionCount();
        if (Integer.compareUnsigned(count, MAX_REGIONS) > 0) {
            return reject(Rejection.BAD_FIELD, "SET_MEM_TABLE with " + Integer.toUnsignedString(count)
                    + " regions; at most " + MAX_REGIONS);
        }
        final int needed = MEMORY_TABLE_HEADER_BYTES + REGION_BYTES * count;
        final Rejection shape = sizeAndFds(message, needed, MEMORY_TABLE_HEADER_BYTES + REGION_BYTES * MAX_REGIONS,
                count, count);
        if (shape != null) {
            return shape;
        }
        for (int i = 0; i < count; i++) {
            final Rejection region = region(message, "SET_MEM_TABLE region " + i, message.regionGpa(i),
                    message.regionSize(i), message.regionUserAddr(i), message.regionMmapOffset(i));
            if (region != null) {
                return region;
            }
            for (int j = 0; j < i; j++) {
                if (overlap(message.regionGpa(i), message.regionSize(i), message.regionGpa(j), message.regionSize(j))) {
                    return reject(Rejection.BAD_FIELD, "SET_MEM_TABLE regions " + j + " and " + i
                            + " overlap in guest physical addresses");
                }
            }
        }
        return null;
    }

    private Rejection singleRegion(final VhostUserMessage message, final int minFds, final int maxFds) {
        final Rejection shape = sizeAndFds(message, SINGLE_REGION_BYTES, SINGLE_REGION_BYTES, minFds, maxFds);
        if (shape != null) {
            return shape;
        }
        return region(message, VhostUserRequest.name(message.request()) + " region", message.singleRegionGpa(),
                message.singleRegionSize(), message.singleRegionUserAddr(), message.singleRegionMmapOffset());
    }

    private Rejection region(final VhostUserMessage message, final String what, final long gpa, final long sizeBytes,
                             final long userAddr, final long mmapOffset) {
        if (sizeBytes == 0) {
            return reject(Rejection.BAD_FIELD, what + " is empty");
        }
        if (wraps(gpa, sizeBytes) || wraps(userAddr, sizeBytes) || wraps(mmapOffset, sizeBytes)) {
            return reject(Rejection.BAD_FIELD, what + " of 0x" + Long.toHexString(sizeBytes) + " bytes wraps past 2^64"
                    + " (gpa 0x" + Long.toHexString(gpa) + ", user 0x" + Long.toHexString(userAddr) + ", offset 0x"
                    + Long.toHexString(mmapOffset) + ")");
        }
        return null;
    }

    private Rejection log(final VhostUserMessage message) {
        final Rejection shape = sizeAndFds(message, LOG_BYTES, LOG_BYTES, 1, 1);
        if (shape != null) {
            return shape;
        }
        if (message.logSize() == 0 || wraps(message.logOffset(), message.logSize())) {
            return reject(Rejection.BAD_FIELD, "SET_LOG_BASE log of 0x" + Long.toHexString(message.logSize())
                    + " bytes at offset 0x" + Long.toHexString(message.logOffset()) + " is empty or wraps");
        }
        return null;
    }

    private Rejection iotlb(final VhostUserMessage message) {
        final Rejection shape = sizeAndFds(message, IOTLB_MIN_BYTES, IOTLB_BYTES, 0, 0);
        if (shape != null) {
            return shape;
        }
        if (message.iotlbPermissions() > 3 || message.iotlbType() < 1 || message.iotlbType() > 4) {
            return reject(Rejection.BAD_FIELD, "IOTLB_MSG perm " + message.iotlbPermissions() + " type "
                    + message.iotlbType() + " (perm 0..3, type 1..4)");
        }
        return null;
    }

    private Rejection config(final VhostUserMessage message) {
        final int size = message.size();
        final String name = VhostUserRequest.name(message.request());
        if (size < VhostUserHeader.CONFIG_HEADER_BYTES) {
            return reject(Rejection.BAD_SIZE, name + " payload of " + size + " bytes holds no config header");
        }
        final long offset = Integer.toUnsignedLong(message.configOffset());
        final long dataBytes = Integer.toUnsignedLong(message.configSize());
        if (offset + dataBytes > VhostUserHeader.MAX_CONFIG_BYTES) {
            return reject(Rejection.BAD_FIELD, name + " of " + dataBytes + " bytes at offset " + offset
                    + " reaches past " + VhostUserHeader.MAX_CONFIG_BYTES + " bytes of config space");
        }
        final int expected = VhostUserHeader.CONFIG_HEADER_BYTES + (int) dataBytes;
        return sizeAndFds(message, expected, expected, 0, 0);
    }

    private Rejection inflight(final VhostUserMessage message, final int fds) {
        final Rejection shape = sizeAndFds(message, INFLIGHT_MIN_BYTES, INFLIGHT_BYTES, fds, fds);
        if (shape != null) {
            return shape;
        }
        if (message.inflightQueueCount() > MAX_VRINGS) {
            return reject(Rejection.BAD_FIELD, VhostUserRequest.name(message.request()) + " for "
                    + message.inflightQueueCount() + " queues; at most " + MAX_VRINGS);
        }
        return null;
    }

    private static String range(final int min, final int max) {
        return min == max ? Integer.toString(min) : min + ".." + max;
    }

    private static boolean wraps(final long start, final long sizeBytes) {
        return Long.compareUnsigned(start + sizeBytes - 1, start) < 0;
    }

    private static boolean overlap(final long startA, final long sizeA, final long startB, final long sizeB) {
        final long lastA = startA + sizeA - 1;
        final long lastB = startB + sizeB - 1;
        return Long.compareUnsigned(startA, lastB) <= 0 && Long.compareUnsigned(startB, lastA) <= 0;
    }
}
