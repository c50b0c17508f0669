package io.vioplane.vhostuser.protocol;

import io.vioplane.platform.sys.EventFd;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.ReceivedFds;
import io.vioplane.platform.sys.UnixSockets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.vioplane.vhostuser.protocol.VhostUserRequest.*;
import static io.vioplane.vhostuser.testing.TestFrontEnd.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/** One rule per request type: canonical messages pass, each boundary just outside fails with the right kind. */
class ValidatorTest {
    private static final int F = VhostUserHeader.VERSION;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = arena.allocate(VhostUserHeader.MAX_PAYLOAD_BYTES);
    private final ReceivedFds fds = new ReceivedFds();
    private final VhostUserMessage message = new VhostUserMessage();
    private final Validator validator = new Validator();

    @AfterEach
    void release() {
        fds.closeAll();
        arena.close();
    }

    /** Fills {@link #fds} with {@code count} real descriptors that arrived over a socket, as in the transport. */
    private void receiveFds(final int count) {
        fds.closeAll();
        if (count == 0) {
            return;
        }
        final int[] pair = UnixSockets.socketPair();
        final int[] sent = new int[count];
        try {
            for (int i = 0; i < count; i++) {
                sent[i] = EventFd.create(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK).fd();
            }
            final MemorySegment one = arena.allocate(1);
            UnixSockets.send(pair[0], one, 1, sent, count, 0);
            UnixSockets.receive(pair[1], one, 1, fds, 0);
        } finally {
            for (int fd : sent) {
                FileIo.closeQuietly(fd);
            }
            FileIo.closeQuietly(pair[0]);
            FileIo.closeQuietly(pair[1]);
        }
    }

    private Rejection validate(final int request, final int flags, final byte[] payload, final int fdCount) {
        MemorySegment.copy(payload, 0, buffer, JAVA_BYTE, 0, payload.length);
        receiveFds(fdCount);
        return validator.validate(message.wrap(request, flags, payload.length, buffer, fds));
    }

    private record Canonical(byte[] payload, int fds) {
    }

    private static Map<Integer, Canonical> canonicalMessages() {
        final Map<Integer, Canonical> all = new LinkedHashMap<>();
        final byte[] none = new byte[0];
        final byte[] u64 = u64s(1);
        final byte[] state = u32s(0, 256);
        final byte[] region = u64s(0x1000, 0x2000, 0x7f00_0000_0000L, 0);
        for (int id : new int[] {GET_FEATURES, SET_OWNER, RESET_OWNER, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
                GET_MAX_MEM_SLOTS, GET_STATUS, POSTCOPY_ADVISE, POSTCOPY_LISTEN, POSTCOPY_END, RESET_DEVICE,
                CHECK_DEVICE_STATE}) {
            all.put(id, new Canonical(none, 0));
        }
        for (int id : new int[] {SET_LOG_FD, SET_BACKEND_REQ_FD, GPU_SET_SOCKET}) {
            all.put(id, new Canonical(none, 1));
        }
        for (int id : new int[] {SET_FEATURES, SET_PROTOCOL_FEATURES, SEND_RARP, NET_SET_MTU, SET_STATUS,
                CLOSE_CRYPTO_SESSION, CREATE_CRYPTO_SESSION}) {
            all.put(id, new Canonical(u64, 0));
        }
        for (int id : new int[] {SET_VRING_NUM, SET_VRING_BASE, GET_VRING_BASE, VRING_KICK}) {
            all.put(id, new Canonical(state, 0));
        }
        all.put(SET_VRING_ENABLE, new Canonical(u32s(1, 1), 0));
        all.put(SET_VRING_ENDIAN, new Canonical(u32s(1, 0), 0));
        all.put(SET_VRING_ADDR, new Canonical(concat(u32s(255, 0), u64s(1, 2, 3, 4)), 0));
        for (int id : new int[] {SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR}) {
            all.put(id, new Canonical(u64s(255), 1));
        }
        all.put(SET_MEM_TABLE, new Canonical(concat(u32s(2, 0), region, u64s(0x3000, 0x1000, 0, 0)), 2));
        all.put(SET_LOG_BASE, new Canonical(u64s(4096, 0), 1));
        all.put(IOTLB_MSG, new Canonical(concat(u64s(1, 2, 3), new byte[] {3, 2}), 0));
        all.put(GET_CONFIG, new Canonical(concat(u32s(0, 4, 0), new byte[4]), 0));
        all.put(SET_CONFIG, new Canonical(concat(u32s(252, 4, 1), new byte[4]), 0));
        all.put(GET_INFLIGHT_FD, new Canonical(concat(u64s(0, 0), u32s(2 | (256 << 16))), 0));
        all.put(SET_INFLIGHT_FD, new Canonical(concat(u64s(4096, 0), u32s(2 | (256 << 16))), 1));
        all.put(GPU_SET_SOCKET, new Canonical(none, 1));
        all.put(ADD_MEM_REG, new Canonical(concat(u64s(0), region), 1));
        all.put(REM_MEM_REG, new Canonical(concat(u64s(0), region), 1));
        all.put(GET_SHARED_OBJECT, new Canonical(new byte[16], 0));
        all.put(SET_DEVICE_STATE_FD, new Canonical(u32s(0, 0), 1));
        return all;
    }

    @Test
    void everyKnownRequestHasARuleAndItsCanonicalFormPasses() {
        final Map<Integer, Canonical> canonical = canonicalMessages();
        for (int id = 1; id <= MAX_REQUEST; id++) {
            final Canonical form = canonical.get(id);
            assertNotNull(form, "a canonical form for " + name(id));
            assertNull(validate(id, F, form.payload(), form.fds()), name(id) + ": " + validator.reason());
            assertNull(validate(id, F | VhostUserHeader.FLAG_NEED_REPLY, form.payload(), form.fds()), name(id));
            assertTrue(MessageProbe.readPromisedFields(message) != Long.MIN_VALUE, "its fields read");
        }
    }

    @Test
    void oneByteShortOrOneDescriptorOffIsRefused() {
        canonicalMessages().forEach((id, form) -> {
            if (form.payload().length > 0) {
                final byte[] shorter = java.util.Arrays.copyOf(form.payload(), form.payload().length - 1);
                final Rejection rejection = validate(id, F, shorter, form.fds());
                assertNotNull(rejection, name(id) + " one byte short");
            }
            assertEquals(Rejection.BAD_FD_COUNT, validate(id, F, form.payload(), form.fds() + 1),
                    name(id) + " with one descriptor too many");
            if (form.fds() > 0 && id != REM_MEM_REG) {
                assertNotNull(validate(id, F, form.payload(), form.fds() - 1), name(id) + " one descriptor short");
            }
        });
    }

    @Test
    void exactSizesAreExact() {
        assertEquals(Rejection.BAD_SIZE, validate(SET_FEATURES, F, new byte[9], 0));
        assertEquals(Rejection.BAD_SIZE, validate(SET_VRING_ADDR, F, new byte[41], 0));
        assertEquals(Rejection.BAD_SIZE, validate(GET_CONFIG, F, concat(u32s(0, 4, 0), new byte[5]), 0));
        assertEquals(Rejection.BAD_SIZE, validate(IOTLB_MSG, F, new byte[33], 0));
        assertNull(validate(IOTLB_MSG, F, concat(u64s(0, 0, 0), new byte[] {0, 2, 0, 0, 0, 0, 0, 0}), 0),
                "the padded 32-byte iotlb struct");
        assertNull(validate(GET_FEATURES, F, u64s(0), 0), "a zero u64 on a request without payload");
        assertEquals(Rejection.BAD_SIZE, validate(GET_FEATURES, F, new byte[9], 0));
    }

    @Test
    void fieldRangesAreChecked() {
        assertEquals(Rejection.BAD_FIELD, validate(SET_VRING_NUM, F, u32s(256, 1), 0));
        assertEquals(Rejection.BAD_FIELD, validate(SET_VRING_ENABLE, F, u32s(0, 2), 0));
        assertEquals(Rejection.BAD_FIELD, validate(SET_MEM_TABLE, F, concat(u32s(9, 0), new byte[256]), 0));
        assertEquals(Rejection.BAD_FIELD, validate(SET_MEM_TABLE, F,
                concat(u32s(2, 0), u64s(0x1000, 0x2000, 0, 0), u64s(0x2fff, 1, 0, 0)), 2), "overlap by one byte");
        assertNull(validate(SET_MEM_TABLE, F,
                concat(u32s(2, 0), u64s(0x1000, 0x2000, 0, 0), u64s(0x3000, 1, 0, 0)), 2), "adjacent is fine");
        assertEquals(Rejection.BAD_FIELD, validate(ADD_MEM_REG, F, concat(u64s(0), u64s(0, 0x1000, -0x800L, 0)), 1),
                "user address wraps");
        assertEquals(Rejection.BAD_FIELD, validate(SET_LOG_BASE, F, u64s(0, 0), 1), "empty log");
        assertEquals(Rejection.BAD_FIELD, validate(IOTLB_MSG, F, concat(u64s(0, 0, 0), new byte[] {4, 2}), 0));
        assertEquals(Rejection.BAD_FIELD, validate(IOTLB_MSG, F, concat(u64s(0, 0, 0), new byte[] {3, 5}), 0));
        assertEquals(Rejection.BAD_FIELD, validate(GET_CONFIG, F, concat(u32s(250, 8, 0), new byte[8]), 0),
                "config beyond 256 bytes");
        assertEquals(Rejection.BAD_FIELD, validate(GET_CONFIG, F, u32s(0, -1, 0), 0), "config size wraps");
        assertEquals(Rejection.BAD_FIELD, validate(GET_INFLIGHT_FD, F, concat(u64s(0, 0), u32s(257)), 0));
        assertEquals(Rejection.BAD_FD_COUNT, validate(SET_VRING_CALL, F, u64s(0x100), 1), "NOFD with an fd");
        assertEquals(Rejection.BAD_FD_COUNT, validate(SET_VRING_CALL, F, u64s(0), 0), "no NOFD, no fd");
        assertNull(validate(SET_VRING_CALL, F, u64s(0x100), 0), "NOFD, no fd");
        assertNull(validate(REM_MEM_REG, F, concat(u64s(0), u64s(0x1000, 0x1000, 0, 0)), 1),
                "REM_MEM_REG may carry one fd (spec: for compatibility)");
    }

    @Test
    void unknownIdsAndBadFlagsAreRefused() {
        for (int id : new int[] {0, MAX_REQUEST + 1, 1000, -1}) {
            assertEquals(Rejection.UNKNOWN_REQUEST, validate(id, F, new byte[0], 0), "id " + id);
            assertTrue(validator.reason().contains("unknown request id"));
        }
        assertEquals(Rejection.BAD_FLAGS, validate(GET_FEATURES, 0, new byte[0], 0));
        assertEquals(Rejection.BAD_FLAGS, validate(GET_FEATURES, 2, new byte[0], 0));
        assertEquals(Rejection.BAD_FLAGS, validate(GET_FEATURES, F | VhostUserHeader.FLAG_REPLY, new byte[0], 0));
        assertNull(validate(GET_FEATURES, F | 0x100, new byte[0], 0), "reserved flag bits are ignored");
    }
}
