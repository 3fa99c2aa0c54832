package dev.ferry.deb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.service.systemd.NotifySocketListener;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real daemons speak the protocol their Type=notify units expect: started with NOTIFY_SOCKET
 * and WATCHDOG_USEC they say READY=1 once serving, ping the watchdog, and on SIGTERM say
 * STOPPING=1 and exit 143 (SuccessExitStatus of the units). The test plays systemd.
 */
class DaemonNotifyTest {

    private static final Duration START = Duration.ofSeconds(120);

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void runUnderNotify(List<String> mainAndArgs, String expectedStatusStart) throws Exception {
        try (NotifySocketListener systemd = NotifySocketListener.onAbstractName()) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path")));
            command.addAll(mainAndArgs);
            ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
            builder.environment().putAll(systemd.environment());
            builder.environment().put("WATCHDOG_USEC", "2000000");
            Process daemon = builder.start();
            try {
                String ready = systemd.awaitLine("READY=1", START);
                assertTrue(ready.contains("STATUS=" + expectedStatusStart), ready);
                systemd.awaitLine("WATCHDOG=1", Duration.ofSeconds(30));
                daemon.destroy(); // SIGTERM, as systemctl stop
                String stopping = systemd.awaitLine("STOPPING=1", Duration.ofSeconds(30));
                assertTrue(stopping.contains("STATUS=stopping"), stopping);
                assertTrue(daemon.waitFor(60, TimeUnit.SECONDS), "the daemon exits after SIGTERM");
                assertEquals(143, daemon.exitValue());
            } finally {
                daemon.destroyForcibly();
            }
        }
    }

    @Test
    void theCoordinatorSaysReadyPingsAndStops(@TempDir Path data) throws Exception {
        int port = freePort();
        runUnderNotify(List.of("dev.ferry.coordinator.CoordinatorMain", "--listen", "127.0.0.1:" + port,
                "--data-dir", data.toString(), "--embedded-zookeeper-port", Integer.toString(freePort()), "--insecure"), "serving on ");
    }

    @Test
    void theAgentSaysReadyPingsAndStops(@TempDir Path data) throws Exception {
        int port = freePort();
        runUnderNotify(List.of("dev.ferry.agent.AgentMain", "--name", "notify-test", "--listen", "127.0.0.1:" + port,
                "--data-dir", data.toString(), "--insecure"), "serving on 127.0.0.1:" + port + " as notify-test");
    }
}
