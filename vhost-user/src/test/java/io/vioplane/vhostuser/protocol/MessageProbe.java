package io.vioplane.vhostuser.protocol;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;

/**
 * Test helper: reads every accessor the {@link Validator} promises a handler for a message's request type (the
 * fields a device-agnostic handler reads), so tests and the fuzz target can check the validator and the
 * flyweight agree.
 */
public final class MessageProbe {
    private MessageProbe() {
    }

    /** Reads every field of {@code message} its request type carries; throws if one lies outside the payload. */
    public static long readPromisedFields(final VhostUserMessage message) {
        long sum = message.fdCount();
        switch (message.request()) {
            case SET_FEATURES, SET_PROTOCOL_FEATURES, SEND_RARP, NET_SET_MTU, SET_STATUS, CLOSE_CRYPTO_SESSION,
                 SET_DEVICE_STATE_FD -> sum += message.u64();
            case SET_VRING_NUM, SET_VRING_BASE, GET_VRING_BASE, VRING_KICK, SET_VRING_ENABLE, SET_VRING_ENDIAN ->
                    sum += message.vringIndex() + message.vringNum();
            case SET_VRING_ADDR -> sum += message.addrIndex() + message.addrFlags() + message.addrDesc()
                    + message.addrUsed() + message.addrAvail() + message.addrLog();
            case SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR -> sum += message.fdIndexVring()
                    + (message.fdIndexNoFd() ? 1 : 0);
            case SET_MEM_TABLE -> {
                for (int i = 0; i < message.regionCount(); i++) {
                    sum += message.regionGpa(i) + message.regionSize(i) + message.regionUserAddr(i)
                            + message.regionMmapOffset(i);
                }
            }
            case ADD_MEM_REG, REM_MEM_REG -> sum += message.singleRegionGpa() + message.singleRegionSize()
                    + message.singleRegionUserAddr() + message.singleRegionMmapOffset();
            case SET_LOG_BASE -> sum += message.logSize() + message.logOffset();
            case IOTLB_MSG -> sum += message.iotlbIova() + message.iotlbSize() + message.iotlbUserAddr()
                    + message.iotlbPermissions() + message.iotlbType();
            case GET_CONFIG, SET_CONFIG -> sum += message.configOffset() + message.configFlags()
                    + message.payload().asSlice(VhostUserHeader.CONFIG_HEADER_BYTES, message.configSize()).byteSize();
            case GET_INFLIGHT_FD, SET_INFLIGHT_FD -> sum += message.inflightMmapSize() + message.inflightMmapOffset()
                    + message.inflightQueueCount() + message.inflightQueueSize();
            default -> sum += message.size();
        }
        return sum;
    }
}
