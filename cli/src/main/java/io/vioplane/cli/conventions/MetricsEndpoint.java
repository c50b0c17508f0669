package io.vioplane.cli.conventions;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A daemon's {@code /metrics} over HTTP ({@code --metrics-listen ADDR:PORT}): its own counters file in the
 * Prometheus text format, served by the JDK's HTTP server on one thread of its own, never a data-plane or
 * control-plane thread. A bare {@code PORT} listens on loopback only.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService thread;

    private MetricsEndpoint(final HttpServer server, final ExecutorService thread) {
        this.server = server;
        this.thread = thread;
    }

    /**
     * @param flag the option that gave the address, for errors
     * @param spec {@code PORT}, {@code ADDR:PORT} or {@code [V6ADDR]:PORT}
     * @return the socket address to listen on (loopback when no address is given)
     * @throws UserError when it does not parse
     */
    public static InetSocketAddress parse(final String flag, final String spec) {
        final int colon = spec.lastIndexOf(':');
        final String host = colon < 0 ? "" : spec.substring(0, colon).replaceAll("^\\[|\\]$", "");
        final int port;
        try {
            port = Integer.parseInt(spec.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw UserError.usage(flag, "expected ADDR:PORT or PORT, not " + spec);
        }
        if (port < 0 || port > 65535) {
            throw UserError.usage(flag, "port must be 0..65535, not " + port);
        }
        try {
            return new InetSocketAddress(host.isEmpty() ? InetAddress.getLoopbackAddress()
                    : InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw UserError.usage(flag, "unknown address " + host);
        }
    }

    /**
     * Binds {@code address} (before the daemon starts, so a busy port fails early); {@link #serve} starts serving.
     *
     * @throws UserError naming {@code flag} if the address cannot be bound
     */
    public static MetricsEndpoint bind(final String flag, final InetSocketAddress address) {
        final HttpServer server;
        try {
            server = HttpServer.create(address, 8);
        } catch (IOException e) {
            throw UserError.failure(flag, "cannot listen on " + address + ": " + e.getMessage(), e);
        }
        final ExecutorService thread = Executors.newSingleThreadExecutor(task -> {
            final Thread metrics = new Thread(task, "vioplane-metrics");
            metrics.setDaemon(true);
            return metrics;
        });
        server.setExecutor(thread);
        return new MetricsEndpoint(server, thread);
    }

    /** Serves the counters file at {@code countersPath} at {@code /metrics} from now on. */
    public void serve(final Path countersPath) {
        server.createContext("/metrics", exchange -> serve(exchange, countersPath));
        server.start();
    }

    private static void serve(final HttpExchange exchange, final Path countersPath) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            final byte[] body = PrometheusExposition.format(List.of(CounterSnapshot.read(countersPath)))
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", PrometheusExposition.CONTENT_TYPE);
            final boolean head = "HEAD".equals(exchange.getRequestMethod());
            exchange.sendResponseHeaders(200, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    /** @return the address it listens on (with the port the kernel chose for port 0) */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }
}
