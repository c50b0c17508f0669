package io.vioplane.vhostuser.protocol;

import io.vioplane.platform.sys.ReceivedFds;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * One received request, valid until the handler returns: a reusable flyweight over the connection's receive
 * buffer, so no allocation per message (QEMU {@code docs/interop/vhost-user.rst}, "Message Specification").
 *
 * <p>Payload accessors read native-endian fields. The {@link Validator} has already checked that the body is long
 * enough for the accessors the request type uses, that the descriptor count is what the request allows, and that
 * indices are in range; every accessor still checks that its field lies within {@link #size()} and throws
 * {@link IllegalStateException} otherwise, so a handler that reads a field its request does not have fails loudly
 * instead of reading a previous message's bytes.
 *
 * <pre>
 * u64                        vring state            vring address (40 bytes)
 *   0 u64                      0 u32 index            0 u32 index      8 u64 desc    24 u64 avail
 *                              4 u32 num              4 u32 flags     16 u64 used    32 u64 log
 * memory table               single region (40)     log (16)              config
 *   0 u32 nregions             0 u64 padding          0 u64 mmap_size       0 u32 offset
 *   4 u32 padding              8 region               8 u64 mmap_offset     4 u32 size
 *   8 region[nregions]       region (32 bytes)      iotlb (32, >= 26 read)  8 u32 flags
 * inflight (24)                0 u64 guest_phys       0 u64 iova           12 u8 data[size]
 *   0 u64 mmap_size            8 u64 size             8 u64 size
 *   8 u64 mmap_offset         16 u64 user_addr       16 u64 uaddr
 *  16 u16 num_queues          24 u64 mmap_offset     24 u8 perm
 *  18 u16 queue_size                                 25 u8 type
 * kick/call/err u64: bits 0-7 vring index, bit 8 NOFD (no descriptor attached: poll)
 * </pre>
 */
public final class VhostUserMessage {
    public static final int U64_BYTES = 8;
    public static final int VRING_STATE_BYTES = 8;
    public static final int VRING_ADDR_BYTES = 40;
    public static final int MEMORY_TABLE_HEADER_BYTES = 8;
    public static final int REGION_BYTES = 32;
    public static final int MAX_REGIONS = 8;
    public static final int SINGLE_REGION_BYTES = 8 + REGION_BYTES;
    public static final int LOG_BYTES = 16;
    /** Bytes of {@code struct vhost_iotlb_msg} up to and including {@code type}; the C struct is 32 with padding. */
    public static final int IOTLB_MIN_BYTES = 26;
    public static final int IOTLB_BYTES = 32;
    /** Bytes of the inflight description up to {@code queue_size}; the C struct is 24 with padding. */
    public static final int INFLIGHT_MIN_BYTES = 20;
    public static final int INFLIGHT_BYTES = 24;
    /** Kick/call/err u64: mask of the vring index. */
    public static final long VRING_INDEX_MASK = 0xFF;
    /** Kick/call/err u64: no descriptor attached. */
    public static final long NOFD_FLAG = 0x100;
    /** The most vrings a vhost-user device has (kick/call/err carry an 8-bit index). */
    public static final int MAX_VRINGS = 256;

    static final int VRING_ADDR_FLAGS = 4;
    static final int VRING_ADDR_DESC = 8;
    static final int VRING_ADDR_USED = 16;
    static final int VRING_ADDR_AVAIL = 24;
    static final int VRING_ADDR_LOG = 32;
    static final int REGION_GPA = 0;
    static final int REGION_SIZE = 8;
    static final int REGION_USER_ADDR = 16;
    static final int REGION_MMAP_OFFSET = 24;
    static final int SINGLE_REGION = 8;
    static final int IOTLB_IOVA = 0;
    static final int IOTLB_SIZE = 8;
    static final int IOTLB_USER_ADDR = 16;
    static final int IOTLB_PERM = 24;
    static final int IOTLB_TYPE = 25;
    static final int CONFIG_OFFSET = 0;
    static final int CONFIG_SIZE = 4;
    static final int CONFIG_FLAGS = 8;
    static final int INFLIGHT_MMAP_SIZE = 0;
    static final int INFLIGHT_MMAP_OFFSET = 8;
    static final int INFLIGHT_NUM_QUEUES = 16;
    static final int INFLIGHT_QUEUE_SIZE = 18;

    private int request;
    private int flags;
    private int size;
    private MemorySegment buffer = MemorySegment.NULL;
    private MemorySegment payloadView;
    private ReceivedFds fds;

    /** Creates an empty flyweight; the transport {@link #wrap wraps} each received message in it. */
    public VhostUserMessage() {
    }

    /**
     * Points this flyweight at a received message (called by the transport).
     *
     * @param payloadBuffer a buffer holding at least {@code payloadBytes} bytes of payload from its start
     * @param receivedFds   the descriptors that arrived with the message
     */
    public VhostUserMessage wrap(final int requestId, final int headerFlags, final int payloadBytes,
                                 final MemorySegment payloadBuffer, final ReceivedFds receivedFds) {
        if (payloadBytes < 0 || payloadBytes > payloadBuffer.byteSize()) {
            throw new IllegalArgumentException("payload of " + payloadBytes + " bytes in a buffer of "
                    + payloadBuffer.byteSize());
        }
        this.request = requestId;
        this.flags = headerFlags;
        this.size = payloadBytes;
        this.buffer = payloadBuffer;
        this.payloadView = null;
        this.fds = receivedFds;
        return this;
    }

    /** @return the request id ({@link VhostUserRequest}) */
    public int request() {
        return request;
    }

    /** @return the header flags */
    public int flags() {
        return flags;
    }

    /** @return payload bytes */
    public int size() {
        return size;
    }

    /** @return true if the front-end set NEED_REPLY */
    public boolean needsReply() {
        return (flags & VhostUserHeader.FLAG_NEED_REPLY) != 0;
    }

    /** @return the payload (a view created on first call per message) */
    public MemorySegment payload() {
        if (payloadView == null) {
            payloadView = buffer.asSlice(0, size);
        }
        return payloadView;
    }

    /** @return the u64 payload */
    public long u64() {
        return getLong(0);
    }

    /** @return vring state: the vring index */
    public int vringIndex() {
        return getInt(0);
    }

    /** @return vring state: num (queue size, base, enable, endianness depending on the request) */
    public int vringNum() {
        return getInt(4);
    }

    /** @return vring address: the vring index */
    public int addrIndex() {
        return getInt(0);
    }

    /** @return vring address: flags (bit 0 VHOST_VRING_F_LOG) */
    public int addrFlags() {
        return getInt(VRING_ADDR_FLAGS);
    }

    /** @return vring address: descriptor table, a front-end user address (or IOVA with ACCESS_PLATFORM) */
    public long addrDesc() {
        return getLong(VRING_ADDR_DESC);
    }

    /** @return vring address: used ring, a front-end user address (or IOVA) */
    public long addrUsed() {
        return getLong(VRING_ADDR_USED);
    }

    /** @return vring address: available ring, a front-end user address (or IOVA) */
    public long addrAvail() {
        return getLong(VRING_ADDR_AVAIL);
    }

    /** @return vring address: guest physical address for logging used-ring writes */
    public long addrLog() {
        return getLong(VRING_ADDR_LOG);
    }

    /** @return memory table: number of regions (0..8) */
    public int regionCount() {
        return getInt(0);
    }

    /** @return memory table region {@code i}: guest physical address */
    public long regionGpa(final int i) {
        return getLong(regionOffset(i) + REGION_GPA);
    }

    /** @return memory table region {@code i}: size in bytes */
    public long regionSize(final int i) {
        return getLong(regionOffset(i) + REGION_SIZE);
    }

    /** @return memory table region {@code i}: the front-end's user (virtual) address */
    public long regionUserAddr(final int i) {
        return getLong(regionOffset(i) + REGION_USER_ADDR);
    }

    /** @return memory table region {@code i}: offset of the region in its descriptor's mapping */
    public long regionMmapOffset(final int i) {
        return getLong(regionOffset(i) + REGION_MMAP_OFFSET);
    }

    /** @return single region (ADD/REM_MEM_REG): guest physical address */
    public long singleRegionGpa() {
        return getLong(SINGLE_REGION + REGION_GPA);
    }

    /** @return single region: size in bytes */
    public long singleRegionSize() {
        return getLong(SINGLE_REGION + REGION_SIZE);
    }

    /** @return single region: the front-end's user address */
    public long singleRegionUserAddr() {
        return getLong(SINGLE_REGION + REGION_USER_ADDR);
    }

    /** @return single region: offset in its descriptor's mapping */
    public long singleRegionMmapOffset() {
        return getLong(SINGLE_REGION + REGION_MMAP_OFFSET);
    }

    /** @return log (SET_LOG_BASE): bytes of the shared log to map */
    public long logSize() {
        return getLong(0);
    }

    /** @return log: offset of the log in its descriptor */
    public long logOffset() {
        return getLong(8);
    }

    /** @return config: offset into the device configuration space */
    public int configOffset() {
        return getInt(CONFIG_OFFSET);
    }

    /** @return config: bytes of configuration data; they are {@code payload().asSlice(12, configSize())} */
    public int configSize() {
        return getInt(CONFIG_SIZE);
    }

    /** @return config: flags (0 writable fields, 1 live migration) */
    public int configFlags() {
        return getInt(CONFIG_FLAGS);
    }

    /** @return IOTLB: I/O virtual address */
    public long iotlbIova() {
        return getLong(IOTLB_IOVA);
    }

    /** @return IOTLB: bytes */
    public long iotlbSize() {
        return getLong(IOTLB_SIZE);
    }

    /** @return IOTLB: the front-end's user address */
    public long iotlbUserAddr() {
        return getLong(IOTLB_USER_ADDR);
    }

    /** @return IOTLB: permissions (0 none, 1 RO, 2 WO, 3 RW) */
    public int iotlbPermissions() {
        return getUnsignedByte(IOTLB_PERM);
    }

    /** @return IOTLB: type (1 MISS, 2 UPDATE, 3 INVALIDATE, 4 ACCESS_FAIL) */
    public int iotlbType() {
        return getUnsignedByte(IOTLB_TYPE);
    }

    /** @return inflight: bytes of the shared inflight buffer */
    public long inflightMmapSize() {
        return getLong(INFLIGHT_MMAP_SIZE);
    }

    /** @return inflight: offset of the buffer in its descriptor */
    public long inflightMmapOffset() {
        return getLong(INFLIGHT_MMAP_OFFSET);
    }

    /** @return inflight: number of queues */
    public int inflightQueueCount() {
        return Short.toUnsignedInt(checked(INFLIGHT_NUM_QUEUES, 2).get(JAVA_SHORT_UNALIGNED, INFLIGHT_NUM_QUEUES));
    }

    /** @return inflight: queue size */
    public int inflightQueueSize() {
        return Short.toUnsignedInt(checked(INFLIGHT_QUEUE_SIZE, 2).get(JAVA_SHORT_UNALIGNED, INFLIGHT_QUEUE_SIZE));
    }

    /** @return kick/call/err: the vring index (bits 0-7 of the u64) */
    public int fdIndexVring() {
        return (int) (u64() & VRING_INDEX_MASK);
    }

    /** @return kick/call/err: true if the NOFD flag (bit 8) is set: no descriptor, poll instead */
    public boolean fdIndexNoFd() {
        return (u64() & NOFD_FLAG) != 0;
    }

    /** @return descriptors that arrived with this message */
    public int fdCount() {
        return fds == null ? 0 : fds.count();
    }

    /**
     * Takes descriptor {@code i}: the handler now owns it and must close it. Descriptors not taken are closed by
     * the connection after the handler returns.
     */
    public int takeFd(final int i) {
        if (fds == null) {
            throw new IndexOutOfBoundsException("descriptor " + i + " of 0");
        }
        return fds.take(i);
    }

    @Override
    public String toString() {
        return VhostUserRequest.name(request) + " flags=0x" + Integer.toHexString(flags) + " size=" + size
                + " fds=" + fdCount();
    }

    private static long regionOffset(final int i) {
        if (i < 0 || i >= MAX_REGIONS) {
            throw new IndexOutOfBoundsException("region " + i + " of at most " + MAX_REGIONS);
        }
        return MEMORY_TABLE_HEADER_BYTES + (long) REGION_BYTES * i;
    }

    private MemorySegment checked(final long offset, final int width) {
        if (offset + width > size) {
            throw new IllegalStateException(VhostUserRequest.name(request) + ": a field at byte " + offset
                    + " lies beyond the " + size + "-byte payload");
        }
        return buffer;
    }

    private int getInt(final long offset) {
        return checked(offset, 4).get(JAVA_INT_UNALIGNED, offset);
    }

    private long getLong(final long offset) {
        return checked(offset, 8).get(JAVA_LONG_UNALIGNED, offset);
    }

    private int getUnsignedByte(final long offset) {
        return Byte.toUnsignedInt(checked(offset, 1).get(JAVA_BYTE, offset));
    }
}
