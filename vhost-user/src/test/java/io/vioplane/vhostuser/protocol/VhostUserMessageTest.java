package io.vioplane.vhostuser.protocol;

import io.vioplane.platform.sys.ReceivedFds;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Set;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static io.vioplane.vhostuser.testing.TestFrontEnd.*;
import static org.junit.jupiter.api.Assertions.*;

/** The flyweight reads each layout at the spec's offsets, and refuses to read past a message's payload. */
class VhostUserMessageTest {
    private final VhostUserMessage message = new VhostUserMessage();

    private VhostUserMessage over(final int request, final int flags, final byte[] payload) {
        final byte[] buffer = new byte[VhostUserHeader.MAX_PAYLOAD_BYTES];
        System.arraycopy(payload, 0, buffer, 0, payload.length);
        return message.wrap(request, flags, payload.length, MemorySegment.ofArray(buffer), new ReceivedFds());
    }

    @Test
    void fieldsAreReadAtTheirOffsets() {
        over(SET_VRING_ADDR, 9, concat(u32s(3, 1), u64s(0x10, 0x20, 0x30, 0x40)));
        assertEquals(3, message.addrIndex());
        assertEquals(1, message.addrFlags());
        assertEquals(0x10, message.addrDesc());
        assertEquals(0x20, message.addrUsed());
        assertEquals(0x30, message.addrAvail());
        assertEquals(0x40, message.addrLog());
        assertTrue(message.needsReply());
        over(SET_MEM_TABLE, 1, concat(u32s(2, 0), u64s(1, 2, 3, 4), u64s(5, 6, 7, 8)));
        assertEquals(2, message.regionCount());
        assertEquals(5, message.regionGpa(1));
        assertEquals(6, message.regionSize(1));
        assertEquals(7, message.regionUserAddr(1));
        assertEquals(8, message.regionMmapOffset(1));
        assertFalse(message.needsReply());
        over(ADD_MEM_REG, 1, concat(u64s(0), u64s(11, 12, 13, 14)));
        assertEquals(11, message.singleRegionGpa());
        assertEquals(12, message.singleRegionSize());
        assertEquals(13, message.singleRegionUserAddr());
        assertEquals(14, message.singleRegionMmapOffset());
        over(IOTLB_MSG, 1, concat(u64s(21, 22, 23), new byte[] {3, 2, 0, 0, 0, 0, 0, 0}));
        assertEquals(21, message.iotlbIova());
        assertEquals(22, message.iotlbSize());
        assertEquals(23, message.iotlbUserAddr());
        assertEquals(3, message.iotlbPermissions());
        assertEquals(2, message.iotlbType());
        over(SET_CONFIG, 1, concat(u32s(8, 2, 1), new byte[] {7, 9}));
        assertEquals(8, message.configOffset());
        assertEquals(2, message.configSize());
        assertEquals(1, message.configFlags());
        assertArrayEquals(new byte[] {7, 9}, message.payload().asSlice(12, message.configSize())
                .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        over(SET_VRING_CALL, 1, u64s(0x105));
        assertEquals(5, message.fdIndexVring());
        assertTrue(message.fdIndexNoFd());
        over(SET_LOG_BASE, 1, u64s(31, 32));
        assertEquals(31, message.logSize());
        assertEquals(32, message.logOffset());
        over(SET_INFLIGHT_FD, 1, concat(u64s(41, 42), u32s(3 | (128 << 16))));
        assertEquals(41, message.inflightMmapSize());
        assertEquals(42, message.inflightMmapOffset());
        assertEquals(3, message.inflightQueueCount());
        assertEquals(128, message.inflightQueueSize());
        assertEquals(0, message.fdCount());
    }

    @Test
    void readingPastThePayloadFailsInsteadOfReadingStaleBytes() {
        over(SET_VRING_ADDR, 1, concat(u32s(3, 1), u64s(0x10, 0x20, 0x30, 0x40)));
        over(GET_FEATURES, 1, new byte[0]);
        assertThrows(IllegalStateException.class, message::u64);
        assertThrows(IllegalStateException.class, message::addrDesc);
        assertEquals(0, message.payload().byteSize());
        over(SET_MEM_TABLE, 1, concat(u32s(1, 0), u64s(1, 2, 3, 4)));
        assertThrows(IllegalStateException.class, () -> message.regionGpa(1));
        assertThrows(IndexOutOfBoundsException.class, () -> message.regionGpa(8));
        assertThrows(IndexOutOfBoundsException.class, () -> message.takeFd(0));
    }

    @Test
    void explicitReplyRequestsAreTheSpecsList() {
        for (int id : new int[] {GET_FEATURES, GET_PROTOCOL_FEATURES, GET_VRING_BASE, GET_QUEUE_NUM, GET_CONFIG,
                GET_MAX_MEM_SLOTS, GET_STATUS, SET_LOG_BASE, IOTLB_MSG, GET_INFLIGHT_FD}) {
            assertTrue(hasExplicitReply(id), name(id));
        }
        final Set<Integer> acknowledgedOnly = Set.of(SET_FEATURES, SET_OWNER, SET_MEM_TABLE, SET_VRING_NUM,
                SET_VRING_ADDR, SET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR, SET_PROTOCOL_FEATURES,
                SET_VRING_ENABLE, SET_BACKEND_REQ_FD, SET_CONFIG, SET_STATUS, ADD_MEM_REG, REM_MEM_REG);
        acknowledgedOnly.forEach(id -> assertFalse(hasExplicitReply(id), name(id)));
        assertEquals("SET_MEM_TABLE", name(SET_MEM_TABLE));
        assertEquals("UNKNOWN(44)", name(44));
        assertEquals("UNKNOWN(4294967295)", name(-1));
        assertEquals("BACKEND_CONFIG_CHANGE_MSG", backendName(BACKEND_CONFIG_CHANGE_MSG));
        assertEquals("MQ|REPLY_ACK|STATUS", ProtocolFeature.describe(0x10009));
    }
}
