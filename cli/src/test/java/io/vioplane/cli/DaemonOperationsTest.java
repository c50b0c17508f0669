package io.vioplane.cli;

import io.vioplane.platform.testing.Requirements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What an operator relies on, with the daemon run as a process: it tells a service manager READY=1 and STOPPING=1
 * over {@code NOTIFY_SOCKET} (received here by Python's own AF_UNIX datagram socket, as systemd would), keeps a pid
 * file while it runs, serves /metrics that Prometheus' promtool accepts, and on SIGTERM exits 0 with its drops
 * summary, its pid file removed.
 */
class DaemonOperationsTest {
    private static final Pattern METRICS_URL = Pattern.compile("metrics: (http://127\\.0\\.0\\.1:\\d+/metrics)");

    @Test
    void notifiesTheServiceManagerKeepsAPidFileAndServesMetrics(@TempDir final Path directory) throws Exception {
        Requirements.requireCommand("python3", "Python 3 (apt-get install python3), the notify socket's listener");
        final Path notifySocket = directory.resolve("notify.sock");
        final Process listener = new ProcessBuilder("python3", "-c", String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
                "s.bind(sys.argv[1])",
                "print('LISTENING', flush=True)",
                "for _ in range(2):",
                "    print(repr(s.recv(4096).decode()), flush=True)"), notifySocket.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            final BufferedReader received = new BufferedReader(
                    new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("LISTENING", received.readLine());
            final Path pidFile = directory.resolve("daemon.pid");
            final VioplaneProcess daemon = VioplaneProcess.start(List.of(),
                    Map.of("NOTIFY_SOCKET", notifySocket.toString()), "vhost-user-net", "--socket-path",
                    directory.resolve("vm0.sock").toString(), "--pid-file", pidFile.toString(),
                    "--metrics-listen", "0");
            try (daemon) {
                assertEquals("'READY=1\\nMAINPID=" + daemon.pid() + "\\nSTATUS=ready: echo, 1 queue pair(s)'",
                        received.readLine());
                assertEquals(daemon.pid() + "\n", Files.readString(pidFile));
                final Matcher url = METRICS_URL.matcher(daemon.stderr());
                assertTrue(url.find(), daemon.stderr());
                final HttpResponse<String> metrics = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(url.group(1))).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, metrics.statusCode());
                assertEquals("text/plain; version=0.0.4; charset=utf-8",
                        metrics.headers().firstValue("Content-Type").orElseThrow());
                assertTrue(metrics.body().contains("vioplane_errors_total{pid=\"" + daemon.pid() + "\"} 0"),
                        metrics.body());
                PrometheusExpositionTest.assertPromtoolAccepts(metrics.body());
                assertEquals(0, daemon.stop(), daemon.stderr());
                assertTrue(daemon.stderr().contains("vioplane: stopping\nvioplane: drops by reason: none\n"),
                        daemon.stderr());
            }
            assertEquals("'STOPPING=1\\nSTATUS=stopping'", received.readLine());
            assertFalse(Files.exists(pidFile), "the pid file is removed at exit");
        } finally {
            listener.destroy();
            listener.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void refusesAPidFileInAMissingDirectoryBeforeStarting(@TempDir final Path directory) throws Exception {
        final Path pidFile = directory.resolve("absent/daemon.pid");
        final VioplaneProcess.Result result = VioplaneProcess.run("vhost-user-net", "--socket-path",
                directory.resolve("vm0.sock").toString(), "--pid-file", pidFile.toString());
        assertEquals(List.of("vioplane vhost-user-net: " + pidFile + ": directory " + pidFile.getParent()
                + " does not exist (--pid-file)"), result.errorLines());
        assertEquals(1, result.exitCode());
    }

    @Test
    void refusesAMetricsAddressThatDoesNotParse(@TempDir final Path directory) throws Exception {
        final VioplaneProcess.Result result = VioplaneProcess.run("vhost-user-net", "--socket-path",
                directory.resolve("vm0.sock").toString(), "--metrics-listen", "localhost:http");
        assertEquals(List.of("vioplane vhost-user-net: --metrics-listen: expected ADDR:PORT or PORT,"
                + " not localhost:http"), result.errorLines());
        assertEquals(2, result.exitCode());
    }

    @Test
    void refusesABusyMetricsPortBeforeServingAnything(@TempDir final Path directory) throws Exception {
        try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            final Path socket = directory.resolve("vm0.sock");
            final VioplaneProcess.Result result = VioplaneProcess.run("vhost-user-net", "--socket-path",
                    socket.toString(), "--metrics-listen", Integer.toString(busy.getLocalPort()));
            assertEquals(1, result.errorLines().size(), result.stderr());
            assertTrue(result.errorLines().getFirst().startsWith("vioplane vhost-user-net: --metrics-listen: cannot"
                    + " listen on "), result.stderr());
            assertEquals(1, result.exitCode());
            assertFalse(Files.exists(socket), "no socket was bound");
        }
    }
}
