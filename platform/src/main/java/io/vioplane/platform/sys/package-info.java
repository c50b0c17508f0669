/**
 * The only foreign-function downcalls in vioplane: thin, typed wrappers over the Linux system calls the
 * data plane needs (mmap, memfd, eventfd, ioctl, read/write/readv/writev, AF_UNIX sockets with
 * SCM_RIGHTS, epoll).
 *
 * <p>Every wrapper reports failure as a {@link io.vioplane.platform.sys.SysException} carrying errno and
 * the name of the call, and closes any descriptor it created before throwing. Wrappers that sit on a data
 * path (eventfd signal/drain, read/write, readv/writev, epoll_wait) allocate nothing: they use a
 * per-thread scratch area for errno capture and small structures.
 */
package io.vioplane.platform.sys;
