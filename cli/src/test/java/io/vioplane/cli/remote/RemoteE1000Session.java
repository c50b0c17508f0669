package io.vioplane.cli.remote;

import io.vioplane.platform.runtime.Counters;
import io.vioplane.platform.runtime.ErrorLog;
import io.vioplane.platform.sys.FileIo;
import io.vioplane.platform.sys.UnixSockets;
import io.vioplane.virtionet.port.DiscardPort;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link RemoteE1000} waiting on a Unix socket for one QEMU (started with
 * {@link io.vioplane.platform.testing.peers.QemuGuest.Builder#connectedSocket}), served on its own thread.
 * {@link #finish()} after QEMU ended: stops listening and returns the device, whose counters and registers the test
 * then reads (and closes).
 */
final class RemoteE1000Session implements AutoCloseable {
    static final long MAC_EEPROM = 0x5634_1200_5452L;

    private final int listening;
    private final CompletableFuture<RemoteE1000> device = new CompletableFuture<>();
    private final CompletableFuture<String> served;
    private boolean closed;

    RemoteE1000Session(final Path socket) {
        listening = UnixSockets.socket(false);
        try {
            UnixSockets.bind(listening, socket.toString());
            UnixSockets.listen(listening, 1);
        } catch (RuntimeException e) {
            FileIo.closeQuietly(listening);
            throw e;
        }
        served = CompletableFuture.supplyAsync(() -> {
            final RemoteE1000 e1000 = new RemoteE1000(UnixSockets.accept(listening, false), new DiscardPort(),
                    MAC_EEPROM, Counters.inMemory(256), ErrorLog.printingTo(System.err), "e1000[remote]");
            device.complete(e1000);
            return e1000.serve();
        });
    }

    /** @return the device once QEMU has disconnected, with why serving ended */
    RemoteE1000 finish(final String expectedEnding) throws Exception {
        close();
        final RemoteE1000 e1000 = device.get(10, TimeUnit.SECONDS);
        final String ending = served.get(30, TimeUnit.SECONDS);
        if (!expectedEnding.equals(ending)) {
            e1000.close();
            throw new AssertionError("serving ended with '" + ending + "', expected '" + expectedEnding + "'");
        }
        return e1000;
    }

    /** Stops listening (a QEMU that never connected no longer blocks the accept). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            UnixSockets.shutdownQuietly(listening);
            FileIo.closeQuietly(listening);
        }
    }
}
