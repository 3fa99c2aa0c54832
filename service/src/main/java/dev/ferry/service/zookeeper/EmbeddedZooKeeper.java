package dev.ferry.service.zookeeper;

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
 * 127.0.0.1 only, admin HTTP server off. Two uses:
 * <ul>
 *   <li>{@link #persistent}: the coordinator's one-host mode (no {@code --zookeeper}): data
 *       under a directory that outlives the process, on a chosen port. {@link #stop()} then
 *       {@link #serve} again resumes with the same data, as a ZooKeeper restart does.</li>
 *   <li>{@link #start()}: tests and {@code bin/ferry-demo}: a free port and a fresh temp dir
 *       that {@link #close()} deletes.</li>
 * </ul>
 * {@code serve}, {@code stop} and {@code close} are synchronized; the server runs on its own threads.
 *
 * <pre>{@code
 * try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
 *     CuratorFramework c = CuratorFrameworkFactory.newClient(zk.connectString(), ...);
 * }
 * }</pre>
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    /**
     * How long {@link #start()} may wait for the server to serve: it returns as soon as it does,
     * so the bound is generous enough for an emulated lab VM (about ten times slower).
     */
    public static final Duration DEFAULT_STARTUP = Duration.ofMinutes(5);
    private static final int ATTEMPTS = 3;

    private final Path dataDir;
    private final int port;
    private final Properties extra;
    private final boolean temporary;
    private ZooKeeperServerEmbedded server; // guarded by this

    private EmbeddedZooKeeper(Path dataDir, int port, Properties extra, boolean temporary) {
        this.dataDir = dataDir;
        this.port = port;
        this.extra = (Properties) extra.clone();
        this.temporary = temporary;
    }

    /**
     * A server keeping its data under {@code dataDir} and listening on {@code port}; not started
     * yet ({@link #serve}).
     *
     * @param extra server properties added to (and overriding) the defaults, e.g.
     *     {@link ZooKeeperSecurity#embeddedServerProperties()} to refuse unauthenticated sessions
     */
    public static EmbeddedZooKeeper persistent(Path dataDir, int port, Properties extra) {
        return new EmbeddedZooKeeper(dataDir, port, extra, false);
    }

    /** A throwaway server on a free port, serving; {@link #close()} deletes its data. */
    public static EmbeddedZooKeeper start() {
        return start(DEFAULT_STARTUP);
    }

    public static EmbeddedZooKeeper start(Duration startupDeadline) {
        return start(startupDeadline, new Properties());
    }

    /**
     * A throwaway server, serving. The free port is found by binding port 0 and releasing it, so
     * another process can grab it in between: retried on a fresh port.
     *
     * @param extra server properties added to (and overriding) the defaults
     */
    public static EmbeddedZooKeeper start(Duration startupDeadline, Properties extra) {
        Exception last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Path dir = null;
            try {
                dir = Files.createTempDirectory("ferry-zk-");
                EmbeddedZooKeeper zk = new EmbeddedZooKeeper(dir, freePort(), extra, true);
                zk.serve(startupDeadline);
                return zk;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                deleteTree(dir);
                throw new IllegalStateException("interrupted while starting ZooKeeper", e);
            } catch (Exception e) {
                last = e;
                deleteTree(dir);
            }
        }
        throw new IllegalStateException("embedded ZooKeeper did not start after " + ATTEMPTS + " attempts", last);
    }

    /** A free loopback port (another process may take it before use: fine for a default and tests). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    /** Starts the server and waits at most {@code timeout} until it serves. */
    public synchronized void serve(Duration timeout) throws Exception {
        Files.createDirectories(dataDir);
        Properties p = new Properties();
        p.setProperty("clientPort", Integer.toString(port));
        p.setProperty("clientPortAddress", "127.0.0.1");
        p.setProperty("tickTime", "500");
        p.setProperty("initLimit", "10");
        p.setProperty("syncLimit", "5");
        p.setProperty("admin.enableServer", "false");
        p.setProperty("maxSessionTimeout", "60000");
        p.setProperty("4lw.commands.whitelist", "ruok,stat,mntr");
        p.putAll(extra);
        ZooKeeperServerEmbedded s = ZooKeeperServerEmbedded.builder().baseDir(dataDir).configuration(p)
                .exitHandler(ExitHandler.LOG_ONLY).build();
        try {
            s.start(timeout.toMillis());
        } catch (Exception e) {
            s.close();
            throw e;
        }
        server = s;
    }

    /** {@code 127.0.0.1:<port>} for Curator or the ZooKeeper client. */
    public String connectString() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** Stops the server, keeping its data ({@link #serve} again resumes with the same state). */
    public synchronized void stop() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** Stops the server; a temporary one's data is deleted. */
    @Override
    public synchronized void close() {
        stop();
        if (temporary) {
            deleteTree(dataDir);
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
