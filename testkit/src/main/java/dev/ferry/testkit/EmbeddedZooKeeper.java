package dev.ferry.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/**
 * A real single-node ZooKeeper server in this JVM ({@link ZooKeeperServerEmbedded}), bound to
 * 127.0.0.1 on a free port, its data in a fresh temp dir that {@link #close()} deletes.
 * The admin HTTP server is off. Used by tests and by {@code bin/ferry-demo}.
 *
 * <pre>{@code
 * try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
 *     CuratorFramework c = CuratorFrameworkFactory.newClient(zk.connectString(), ...);
 * }
 * }</pre>
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private static final int ATTEMPTS = 3;

    private final ZooKeeperServerEmbedded server;
    private final Path dataDir;
    private final int port;

    private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, Path dataDir, int port) {
        this.server = server;
        this.dataDir = dataDir;
        this.port = port;
    }

    public static EmbeddedZooKeeper start() {
        return start(Duration.ofSeconds(30));
    }

    public static EmbeddedZooKeeper start(Duration startupDeadline) {
        return start(startupDeadline, new Properties());
    }

    /**
     * Starts the server and waits until it serves. The free port is found by binding port 0 and
     * releasing it, so another process can grab it in between: retried on a fresh port.
     *
     * @param extra server properties added to (and overriding) the defaults, e.g. {@code
     *     ZooKeeperSecurity.embeddedServerProperties()} to refuse unauthenticated sessions
     */
    public static EmbeddedZooKeeper start(Duration startupDeadline, Properties extra) {
        Exception last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Path dir = null;
            try {
                dir = Files.createTempDirectory("ferry-zk-");
                int port = freePort();
                Properties p = new Properties();
                p.setProperty("clientPort", Integer.toString(port));
                p.setProperty("clientPortAddress", "127.0.0.1");
                p.setProperty("tickTime", "500");
                p.setProperty("initLimit", "10");
                p.setProperty("syncLimit", "5");
                p.setProperty("admin.enableServer", "false");
                p.setProperty("4lw.commands.whitelist", "ruok,stat,mntr");
                p.putAll(extra);
                ZooKeeperServerEmbedded server = ZooKeeperServerEmbedded.builder()
                        .baseDir(dir)
                        .configuration(p)
                        .exitHandler(ExitHandler.LOG_ONLY)
                        .build();
                server.start(LabEnvironment.scaled(startupDeadline).toMillis());
                return new EmbeddedZooKeeper(server, dir, port);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting ZooKeeper", e);
            } catch (Exception e) {
                last = e;
                deleteTree(dir);
            }
        }
        throw new IllegalStateException("embedded ZooKeeper did not start after " + ATTEMPTS + " attempts", last);
    }

    /** {@code 127.0.0.1:<port>} for Curator or the ZooKeeper client. */
    public String connectString() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        server.close();
        deleteTree(dataDir);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedZooKeeper[" + connectString() + "]";
    }
}
