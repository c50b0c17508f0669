/**
 * The vhost-user transport (QEMU {@code docs/interop/vhost-user.rst}, "Communication"): a connection per front-end
 * over an FFM AF_UNIX socket registered on a Netty 4.2 epoll event loop, the server and the reconnecting client,
 * and the back-end request channel. Netty's own domain-socket channels cannot keep a message's bytes and its
 * descriptors together, so the sockets are read with {@code recvmsg} from the platform module, one message at a
 * time.
 */
package io.vioplane.vhostuser.transport;
