package io.vioplane.platform.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An io_uring instance (Linux io_uring(7), io_uring_setup(2), io_uring_enter(2), io_uring_register(2); the
 * structures of {@code <linux/io_uring.h>}) used one way: prepare a batch of reads or writes, submit them all and
 * wait for their completions with one system call, then read the results. For devices whose reads and writes
 * never sleep (a TAP), the kernel runs each operation during the submitting call, in order. Reads of a pollable
 * file may instead be left in flight ({@link #openForPolling}, {@link #submitAndRunTaskWork}) and reaped from the
 * completion ring as they complete.
 *
 * <p>The submission queue's index array is set to the identity once, so preparing an operation writes only its
 * 64-byte entry. Ring indices are published with release stores and read with acquire loads, as the kernel's
 * side expects. One thread uses an instance; nothing allocates after {@link #open}.
 */
public final class IoUring implements AutoCloseable {
    /** IORING_OP_WRITEV. */
    public static final int OP_WRITEV = 2;
    /** IORING_OP_READ. */
    public static final int OP_READ = 22;
    /** IORING_OP_WRITE. */
    public static final int OP_WRITE = 23;
    /** IORING_OP_READV. */
    public static final int OP_READV = 1;
    /** IORING_OP_FSYNC. */
    public static final int OP_FSYNC = 3;
    /** IORING_OP_FALLOCATE. */
    public static final int OP_FALLOCATE = 17;
    /** IORING_OP_ASYNC_CANCEL. */
    public static final int OP_ASYNC_CANCEL = 14;
    /** IORING_OP_READ_MULTISHOT (Linux 6.7). */
    public static final int OP_READ_MULTISHOT = 49;
    /** IORING_CQE_F_BUFFER: the completion names a provided buffer in its upper 16 flag bits. */
    public static final int CQE_F_BUFFER = 1;
    /** IORING_CQE_F_MORE: a multishot operation stays armed after this completion. */
    public static final int CQE_F_MORE = 2;
    /** IORING_CQE_BUFFER_SHIFT. */
    public static final int CQE_BUFFER_SHIFT = 16;
    /** Bytes of one struct io_uring_buf in a provided-buffer ring. */
    public static final int BUFFER_RING_ENTRY_BYTES = 16;
    /** IORING_FSYNC_DATASYNC: fdatasync(2) semantics for {@link #prepareFsync}. */
    public static final int FSYNC_DATASYNC = 1;
    /** RWF_DSYNC: a write that is durable when it completes (pwritev2(2)). */
    public static final int RWF_DSYNC = 2;

    private static final long SYS_IO_URING_SETUP = 425;
    private static final long SYS_IO_URING_ENTER = 426;
    private static final long SYS_IO_URING_REGISTER = 427;
    private static final int SETUP_COOP_TASKRUN = 1 << 8;
    private static final int SETUP_TASKRUN_FLAG = 1 << 9;
    private static final int SQ_TASKRUN = 1 << 2;
    private static final int CQ_EVENTFD_DISABLED = 1;
    private static final int ASYNC_CANCEL_ALL = 1;
    private static final int ASYNC_CANCEL_ANY = 1 << 2;
    private static final int FEAT_SINGLE_MMAP = 1;
    private static final int ENTER_GETEVENTS = 1;
    private static final int REGISTER_FILES = 2;
    private static final int REGISTER_EVENTFD = 4;
    private static final int UNREGISTER_FILES = 3;
    private static final int REGISTER_PBUF_RING = 22;
    private static final int UNREGISTER_PBUF_RING = 23;
    private static final int BUF_REG_BYTES = 40;
    private static final int SQE_BUFFER_SELECT = 1 << 5;
    private static final int SQE_FIXED_FILE = 1;
    private static final long OFF_SQ_RING = 0;
    private static final long OFF_CQ_RING = 0x8000000L;
    private static final long OFF_SQES = 0x10000000L;
    private static final int PARAMS_BYTES = 120;
    private static final int SQE_BYTES = 64;
    private static final int CQE_BYTES = 16;
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final Arena arena = Arena.ofShared();
    private final int ringFd;
    private final int entries;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final long sqHeadOffset;
    private final long sqTailOffset;
    private final long sqFlagsOffset;
    private final int sqMask;
    private final long cqHeadOffset;
    private final long cqTailOffset;
    private final long cqesOffset;
    private final long cqFlagsOffset;
    private final int cqMask;
    private final boolean taskRunFlag;
    private final MemorySegment fileTable;
    private int sqTail;
    private int prepared;
    private int inFlight;
    private boolean fileRegistered;
    private boolean closed;

    private IoUring(final int ringFd, final MemorySegment params) {
        this.ringFd = ringFd;
        try {
            taskRunFlag = (params.get(JAVA_INT, 8) & SETUP_TASKRUN_FLAG) != 0;
            entries = params.get(JAVA_INT, 0);
            final int cqEntries = params.get(JAVA_INT, 4);
            final int features = params.get(JAVA_INT, 20);
            final long sqOff = 40;
            final long cqOff = 80;
            sqHeadOffset = Integer.toUnsignedLong(params.get(JAVA_INT, sqOff));
            sqTailOffset = Integer.toUnsignedLong(params.get(JAVA_INT, sqOff + 4));
            final long sqMaskOffset = Integer.toUnsignedLong(params.get(JAVA_INT, sqOff + 8));
            sqFlagsOffset = Integer.toUnsignedLong(params.get(JAVA_INT, sqOff + 16));
            final long sqArrayOffset = Integer.toUnsignedLong(params.get(JAVA_INT, sqOff + 24));
            cqHeadOffset = Integer.toUnsignedLong(params.get(JAVA_INT, cqOff));
            cqTailOffset = Integer.toUnsignedLong(params.get(JAVA_INT, cqOff + 4));
            final long cqMaskOffset = Integer.toUnsignedLong(params.get(JAVA_INT, cqOff + 8));
            cqesOffset = Integer.toUnsignedLong(params.get(JAVA_INT, cqOff + 20));
            cqFlagsOffset = Integer.toUnsignedLong(params.get(JAVA_INT, cqOff + 24));
            long sqBytes = sqArrayOffset + (long) entries * Integer.BYTES;
            long cqBytes = cqesOffset + (long) cqEntries * CQE_BYTES;
            final int rw = Mmap.PROT_READ | Mmap.PROT_WRITE;
            final int flags = Mmap.MAP_SHARED | Mmap.MAP_POPULATE;
            if ((features & FEAT_SINGLE_MMAP) != 0) {
                sqBytes = Math.max(sqBytes, cqBytes);
                sqRing = Mmap.map(ringFd, OFF_SQ_RING, sqBytes, rw, flags, arena);
                cqRing = sqRing;
            } else {
                sqRing = Mmap.map(ringFd, OFF_SQ_RING, sqBytes, rw, flags, arena);
                cqRing = Mmap.map(ringFd, OFF_CQ_RING, cqBytes, rw, flags, arena);
            }
            sqes = Mmap.map(ringFd, OFF_SQES, (long) entries * SQE_BYTES, rw, flags, arena);
            sqMask = sqRing.get(JAVA_INT, sqMaskOffset);
            cqMask = cqRing.get(JAVA_INT, cqMaskOffset);
            for (int i = 0; i < entries; i++) {
                sqRing.set(JAVA_INT, sqArrayOffset + (long) i * Integer.BYTES, i);
            }
            sqTail = (int) INT.getAcquire(sqRing, sqTailOffset);
            fileTable = arena.allocate(JAVA_INT);
        } catch (RuntimeException e) {
            arena.close();
            FileIo.close(ringFd);
            throw e;
        }
    }

    /**
     * Creates an instance with room for {@code entries} operations in flight (rounded up to a power of two by the
     * kernel).
     *
     * @throws SysException if the kernel has no io_uring or refuses it (ENOSYS, EPERM when
     *                      {@code kernel.io_uring_disabled} forbids it, or a seccomp filter)
     */
    public static IoUring open(final int entries) {
        return open(entries, SETUP_COOP_TASKRUN);
    }

    /**
     * Creates an instance for asynchronous storage I/O: completions of operations that go to the kernel's
     * workers or the block layer are posted as soon as they finish (no IORING_SETUP_COOP_TASKRUN), so an
     * eventfd registered with {@link #registerEventFd} wakes a thread sleeping elsewhere.
     */
    public static IoUring openForStorage(final int entries) {
        return open(entries, 0);
    }

    /**
     * Creates an instance for operations that wait on a pollable file (reads armed on a TAP): completions run as
     * task work when the owning thread next enters the kernel (IORING_SETUP_COOP_TASKRUN), and the kernel flags
     * pending task work in the submission ring (IORING_SETUP_TASKRUN_FLAG, Linux 5.19) so that
     * {@link #taskWorkPending} tells whether a call to {@link #submitAndRunTaskWork} would post anything.
     */
    public static IoUring openForPolling(final int entries) {
        return open(entries, SETUP_COOP_TASKRUN | SETUP_TASKRUN_FLAG);
    }

    private static IoUring open(final int entries, final int setupFlags) {
        if (entries < 1 || entries > 4096) {
            throw new IllegalArgumentException("io_uring entries must be 1..4096: " + entries);
        }
        try (Arena setup = Arena.ofConfined()) {
            final MemorySegment params = setup.allocate(PARAMS_BYTES, 8);
            final Libc.Scratch scratch = Libc.scratch();
            params.set(JAVA_INT, 8, setupFlags);
            long fd = Libc.syscall(scratch.capture, SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0);
            if (fd < 0 && scratch.errno() == Errno.EINVAL) {
                params.fill((byte) 0);
                fd = Libc.syscall(scratch.capture, SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0);
            }
            if (fd < 0) {
                throw new SysException("io_uring_setup(" + entries + ")", scratch.errno());
            }
            return new IoUring((int) fd, params);
        }
    }

    /** @return the number of operations that fit in one batch */
    public int capacity() {
        return entries;
    }

    /** @return operations prepared and not yet submitted */
    public int prepared() {
        return prepared;
    }

    /**
     * Registers {@code fd} as fixed file 0 (replacing any earlier one), so operations on it skip the kernel's
     * per-call file lookup. Call with nothing in flight.
     */
    public void registerFile(final int fd) {
        unregisterFile();
        final Libc.Scratch scratch = Libc.scratch();
        fileTable.set(JAVA_INT, 0, fd);
        if (Libc.syscall(scratch.capture, SYS_IO_URING_REGISTER, ringFd, REGISTER_FILES, fileTable.address(), 1, 0,
                0) < 0) {
            throw new SysException("io_uring_register(FILES, fd=" + fd + ")", scratch.errno());
        }
        fileRegistered = true;
    }

    /** Drops the registered file (the ring's reference to it goes; the caller's descriptor is untouched). */
    public void unregisterFile() {
        if (fileRegistered) {
            Libc.syscall(Libc.scratch().capture, SYS_IO_URING_REGISTER, ringFd, UNREGISTER_FILES, 0, 0, 0, 0);
            fileRegistered = false;
        }
    }

    /**
     * Signals {@code eventFd} whenever completions are posted (IORING_REGISTER_EVENTFD), so a thread can sleep
     * in epoll(7) and reap when woken.
     */
    public void registerEventFd(final int eventFd) {
        final Libc.Scratch scratch = Libc.scratch();
        try (Arena call = Arena.ofConfined()) {
            final MemorySegment fd = call.allocate(JAVA_INT);
            fd.set(JAVA_INT, 0, eventFd);
            if (Libc.syscall(scratch.capture, SYS_IO_URING_REGISTER, ringFd, REGISTER_EVENTFD, fd.address(), 1, 0,
                    0) < 0) {
                throw new SysException("io_uring_register(EVENTFD, fd=" + eventFd + ")", scratch.errno());
            }
        }
    }

    /**
     * @return true if completions wait as task work for this thread to enter the kernel (IORING_SQ_TASKRUN);
     *     always true when the kernel did not accept IORING_SETUP_TASKRUN_FLAG
     */
    public boolean taskWorkPending() {
        return !taskRunFlag || ((int) INT.getAcquire(sqRing, sqFlagsOffset) & SQ_TASKRUN) != 0;
    }

    /**
     * Turns the registered eventfd's signals off or on (IORING_CQ_EVENTFD_DISABLED in the completion ring's
     * flags): off while the thread polls the ring itself, on before it sleeps. Shared memory only; after turning
     * them on, check {@link #completionsReady} for completions posted while they were off.
     */
    public void eventFdSignals(final boolean enabled) {
        final int flags = (int) INT.getAcquire(cqRing, cqFlagsOffset);
        final int wanted = enabled ? flags & ~CQ_EVENTFD_DISABLED : flags | CQ_EVENTFD_DISABLED;
        if (wanted != flags) {
            INT.setRelease(cqRing, cqFlagsOffset, wanted);
        }
    }

    /**
     * Submits what is prepared, if anything, and lets the kernel run this thread's pending task work (which posts
     * the completions of operations whose file became ready), with one io_uring_enter(2) that does not wait; no
     * call at all when there is neither.
     *
     * @return how many prepared operations the kernel took
     */
    public int submitAndRunTaskWork() {
        if (prepared == 0 && (inFlight == 0 || !taskWorkPending())) {
            return 0;
        }
        INT.setRelease(sqRing, sqTailOffset, sqTail);
        return enter(0, 0);
    }

    /**
     * Cancels every operation in flight (IORING_OP_ASYNC_CANCEL with IORING_ASYNC_CANCEL_ALL | ANY, Linux 5.19)
     * and waits until all of them, the cancel included, have completed; their completions are discarded. Used
     * before buffers that reads in flight point into are reused or freed (not on a data path: it allocates).
     */
    public void cancelAll() {
        if (prepared + inFlight == 0) {
            return;
        }
        if (prepared + inFlight < entries) {
            prepare(OP_ASYNC_CANCEL, 0, 0, 0, ASYNC_CANCEL_ALL | ASYNC_CANCEL_ANY, 0L, (byte) 0);
        }
        final long[] userData = new long[16];
        final int[] results = new int[16];
        while (prepared + inFlight > 0) {
            awaitCompletions(1);
            reap(userData, results, userData.length);
        }
    }

    /**
     * Registers a ring of provided buffers for group {@code groupId} (IORING_REGISTER_PBUF_RING, Linux 5.19):
     * {@code ringMemory} (page-aligned, {@code entries} x {@link #BUFFER_RING_ENTRY_BYTES}, a power of two) holds
     * struct io_uring_buf entries, whose tail (a 16-bit count at byte 14) the caller advances with a release
     * store as it adds buffers; reads with buffer select take them in ring order.
     */
    public void registerBufferRing(final MemorySegment ringMemory, final int entries, final int groupId) {
        bufferRingCall(REGISTER_PBUF_RING, ringMemory.address(), entries, groupId);
    }

    /** Drops the provided-buffer ring of group {@code groupId} (IORING_UNREGISTER_PBUF_RING). */
    public void unregisterBufferRing(final int groupId) {
        bufferRingCall(UNREGISTER_PBUF_RING, 0, 0, groupId);
    }

    private void bufferRingCall(final int opcode, final long ringAddress, final int entries, final int groupId) {
        final Libc.Scratch scratch = Libc.scratch();
        try (Arena call = Arena.ofConfined()) {
            final MemorySegment reg = call.allocate(BUF_REG_BYTES, 8);
            reg.set(JAVA_LONG, 0, ringAddress);
            reg.set(JAVA_INT, 8, entries);
            reg.set(JAVA_SHORT, 12, (short) groupId);
            if (Libc.syscall(scratch.capture, SYS_IO_URING_REGISTER, ringFd, opcode, reg.address(), 1, 0, 0) < 0) {
                throw new SysException("io_uring_register(" + (opcode == REGISTER_PBUF_RING ? "" : "UN")
                        + "REGISTER_PBUF_RING, group " + groupId + ")", scratch.errno());
            }
        }
    }

    /**
     * Prepares a multishot read of fixed file 0 (IORING_OP_READ_MULTISHOT, Linux 6.7): armed once, it reads into
     * the next buffer of provided-buffer group {@code groupId} whenever the file is readable and posts a
     * completion with {@link #CQE_F_BUFFER} and {@link #CQE_F_MORE} for each read, until it fails or runs out of
     * buffers (a completion without {@link #CQE_F_MORE}, e.g. -ENOBUFS).
     */
    public void prepareReadMultishot(final int groupId, final long userData) {
        prepare(OP_READ_MULTISHOT, 0, 0, -1L, 0, userData, (byte) (SQE_FIXED_FILE | SQE_BUFFER_SELECT));
        sqes.set(JAVA_SHORT, (long) ((sqTail - 1) & sqMask) * SQE_BYTES + 40, (short) groupId);
    }

    /** @return operations submitted and not yet reaped, plus those prepared */
    public int outstanding() {
        return prepared + inFlight;
    }

    /**
     * Prepares a scatter read of entries {@code first .. first+count-1} of {@code iov} from fixed file 0 at
     * {@code offsetBytes} (preadv(2)).
     */
    public void prepareReadvAt(final IoVecArray iov, final int first, final int count, final long offsetBytes,
                               final long userData) {
        Objects.checkFromIndexSize(first, count, iov.capacity());
        prepare(OP_READV, iov.segment().address() + (long) first * IoVecArray.ENTRY_BYTES, count, offsetBytes, 0,
                userData);
    }

    /**
     * Prepares a gather write of entries {@code first .. first+count-1} of {@code iov} to fixed file 0 at
     * {@code offsetBytes} (pwritev2(2)).
     *
     * @param rwFlags 0 or {@link #RWF_DSYNC}
     */
    public void prepareWritevAt(final IoVecArray iov, final int first, final int count, final long offsetBytes,
                                final int rwFlags, final long userData) {
        Objects.checkFromIndexSize(first, count, iov.capacity());
        prepare(OP_WRITEV, iov.segment().address() + (long) first * IoVecArray.ENTRY_BYTES, count, offsetBytes,
                rwFlags, userData);
    }

    /** Prepares an fsync(2) of fixed file 0, or fdatasync(2) with {@link #FSYNC_DATASYNC}. */
    public void prepareFsync(final int fsyncFlags, final long userData) {
        prepare(OP_FSYNC, 0, 0, 0, fsyncFlags, userData);
    }

    /** Prepares fallocate(2) of fixed file 0 with {@code mode} (FALLOC_FL_* bits) over the given range. */
    public void prepareFallocate(final int mode, final long offsetBytes, final long lengthBytes, final long userData) {
        prepare(OP_FALLOCATE, lengthBytes, mode, offsetBytes, 0, userData);
    }

    /**
     * Hands the prepared operations to the kernel without waiting for any of them (io_uring_enter(2) without
     * GETEVENTS); their completions are reaped later with {@link #reap}.
     *
     * @return how many operations the kernel took
     */
    public int submit() {
        if (prepared == 0) {
            return 0;
        }
        INT.setRelease(sqRing, sqTailOffset, sqTail);
        return enter(0, 0);
    }

    /**
     * Waits until at least {@code minCompletions} completions are ready (or everything in flight completed).
     *
     * @return the number of completions ready for {@link #reap}
     */
    public int awaitCompletions(final int minCompletions) {
        submit();
        final Libc.Scratch scratch = Libc.scratch();
        final int wanted = Math.min(minCompletions, inFlight);
        while (completionsReady() < wanted) {
            final long result = Libc.syscall(scratch.capture, SYS_IO_URING_ENTER, ringFd, 0, wanted, ENTER_GETEVENTS,
                    0, 0);
            if (result < 0) {
                final int errno = scratch.errno();
                if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.EBUSY) {
                    continue;
                }
                throw new SysException("io_uring_enter(GETEVENTS " + wanted + ")", errno);
            }
        }
        return completionsReady();
    }

    /**
     * Prepares a gather write of {@code iovCount} iovec entries at {@code iovecs} to fixed file 0.
     *
     * @param userData returned with the operation's result
     * @throws IllegalStateException if the batch is full or no file is registered
     */
    public void prepareWritev(final MemorySegment iovecs, final int iovCount, final long userData) {
        prepare(OP_WRITEV, iovecs.address(), iovCount, userData);
    }

    /** Prepares a gather write of entries {@code first .. first+count-1} of {@code iov} to fixed file 0. */
    public void prepareWritev(final IoVecArray iov, final int first, final int count, final long userData) {
        Objects.checkFromIndexSize(first, count, iov.capacity());
        prepare(OP_WRITEV, iov.segment().address() + (long) first * IoVecArray.ENTRY_BYTES, count, userData);
    }

    /** Prepares a write of {@code lengthBytes} from {@code buffer} (native) to fixed file 0. */
    public void prepareWrite(final MemorySegment buffer, final int lengthBytes, final long userData) {
        Objects.checkFromIndexSize(0, lengthBytes, buffer.byteSize());
        prepare(OP_WRITE, buffer.address(), lengthBytes, userData);
    }

    /** Prepares a read of at most {@code lengthBytes} into {@code buffer} (native) from fixed file 0. */
    public void prepareRead(final MemorySegment buffer, final int lengthBytes, final long userData) {
        Objects.checkFromIndexSize(0, lengthBytes, buffer.byteSize());
        prepare(OP_READ, buffer.address(), lengthBytes, userData);
    }

    private void prepare(final int opcode, final long address, final int length, final long userData) {
        prepare(opcode, address, length, -1L, 0, userData);
    }

    private void prepare(final int opcode, final long address, final int length, final long offset, final int opFlags,
                         final long userData) {
        prepare(opcode, address, length, offset, opFlags, userData, (byte) SQE_FIXED_FILE);
    }

    private void prepare(final int opcode, final long address, final int length, final long offset, final int opFlags,
                         final long userData, final byte sqeFlags) {
        if ((sqeFlags & SQE_FIXED_FILE) != 0 && !fileRegistered) {
            throw new IllegalStateException("io_uring: no file registered");
        }
        if (prepared + inFlight >= entries) {
            throw new IllegalStateException("io_uring: batch full (" + entries + " operations)");
        }
        final long at = (long) (sqTail & sqMask) * SQE_BYTES;
        sqes.set(JAVA_BYTE, at, (byte) opcode);
        sqes.set(JAVA_BYTE, at + 1, sqeFlags);
        sqes.set(JAVA_SHORT, at + 2, (short) 0);
        sqes.set(JAVA_INT, at + 4, 0);
        sqes.set(JAVA_LONG, at + 8, offset);
        sqes.set(JAVA_LONG, at + 16, address);
        sqes.set(JAVA_INT, at + 24, length);
        sqes.set(JAVA_INT, at + 28, opFlags);
        sqes.set(JAVA_LONG, at + 32, userData);
        sqes.set(JAVA_LONG, at + 40, 0L);
        sqes.set(JAVA_LONG, at + 48, 0L);
        sqes.set(JAVA_LONG, at + 56, 0L);
        sqTail++;
        prepared++;
    }

    /**
     * Submits the prepared operations and waits until every operation in flight has completed: one
     * io_uring_enter(2) call in the common case.
     *
     * @return the number of completions now ready for {@link #reap}
     * @throws SysException if the kernel refuses the batch
     */
    public int submitAndWait() {
        if (prepared == 0 && inFlight == 0) {
            return 0;
        }
        INT.setRelease(sqRing, sqTailOffset, sqTail);
        while (prepared > 0 || completionsReady() < inFlight) {
            enter(prepared + inFlight, ENTER_GETEVENTS);
        }
        return completionsReady();
    }

    /**
     * io_uring_enter(2) with every prepared entry, retried while interrupted or busy; the submitted entries move
     * from prepared to in flight.
     *
     * @return how many entries the kernel took
     */
    private int enter(final int minComplete, final int flags) {
        final Libc.Scratch scratch = Libc.scratch();
        while (true) {
            final long submitted = Libc.syscall(scratch.capture, SYS_IO_URING_ENTER, ringFd, prepared, minComplete,
                    flags, 0, 0);
            if (submitted < 0) {
                final int errno = scratch.errno();
                if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.EBUSY) {
                    continue;
                }
                throw new SysException("io_uring_enter(" + prepared + ")", errno);
            }
            prepared -= (int) submitted;
            inFlight += (int) submitted;
            return (int) submitted;
        }
    }

    /** @return completions posted and not yet reaped (shared memory, no system call) */
    public int completionsReady() {
        return (int) INT.getAcquire(cqRing, cqTailOffset) - (int) INT.getAcquire(cqRing, cqHeadOffset);
    }

    /**
     * Takes up to {@code max} completions.
     *
     * @param userData receives each operation's user data
     * @param results  receives each result: bytes transferred, or a negative errno
     * @return how many were taken
     */
    public int reap(final long[] userData, final int[] results, final int max) {
        return reap(userData, results, null, max);
    }

    /**
     * Takes up to {@code max} completions with their flags ({@link #CQE_F_BUFFER}, {@link #CQE_F_MORE}); a
     * completion with {@link #CQE_F_MORE} leaves its operation in flight.
     *
     * @param flags receives each completion's flags; may be null
     * @return how many were taken
     */
    public int reap(final long[] userData, final int[] results, final int[] flags, final int max) {
        int head = (int) INT.getAcquire(cqRing, cqHeadOffset);
        final int tail = (int) INT.getAcquire(cqRing, cqTailOffset);
        int taken = 0;
        int finished = 0;
        while (head != tail && taken < max) {
            final long at = cqesOffset + (long) (head & cqMask) * CQE_BYTES;
            userData[taken] = cqRing.get(JAVA_LONG, at);
            results[taken] = cqRing.get(JAVA_INT, at + 8);
            final int cqeFlags = cqRing.get(JAVA_INT, at + 12);
            if (flags != null) {
                flags[taken] = cqeFlags;
            }
            if ((cqeFlags & CQE_F_MORE) == 0) {
                finished++;
            }
            taken++;
            head++;
        }
        INT.setRelease(cqRing, cqHeadOffset, head);
        inFlight -= finished;
        return taken;
    }

    /** Unmaps the rings and closes the instance; operations in flight finish or are cancelled by the kernel. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
        FileIo.close(ringFd);
    }
}
