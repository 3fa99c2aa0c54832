package dev.ferry.coordinator.zk;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/**
 * A single-node ZooKeeper inside the coordinator for one-host use: data under {@code dataDir},
 * bound to 127.0.0.1 only, admin server off. Stop and start it again on the same port and data
 * dir to simulate a ZooKeeper restart.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
  private final Path dataDir;
  private final int port;
  private final Properties extra;
  private ZooKeeperServerEmbedded server;

  public EmbeddedZooKeeper(Path dataDir, int port) {
    this(dataDir, port, new Properties());
  }

  /**
   * @param extra server properties added to the defaults, e.g.
   *     {@code ZooKeeperSecurity.embeddedServerProperties()} to refuse unauthenticated sessions
   */
  public EmbeddedZooKeeper(Path dataDir, int port, Properties extra) {
    this.dataDir = dataDir;
    this.port = port;
    this.extra = (Properties) extra.clone();
  }

  /** A free loopback port (may be taken again before use; fine for a one-host default and tests). */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  public synchronized void start() throws Exception {
    start(Duration.ofSeconds(30));
  }

  /**
   * Starts and waits at most {@code timeout} for the server to serve (a slow machine, or an
   * emulated lab VM, needs far more than the usual few seconds: scale it).
   */
  public synchronized void start(Duration timeout) throws Exception {
    Files.createDirectories(dataDir);
    Properties p = new Properties();
    p.setProperty("clientPort", Integer.toString(port));
    p.setProperty("clientPortAddress", "127.0.0.1");
    p.setProperty("tickTime", "500");
    p.setProperty("initLimit", "10");
    p.setProperty("syncLimit", "5");
    p.setProperty("admin.enableServer", "false");
    p.setProperty("maxSessionTimeout", "60000");
    p.putAll(extra);
    server = ZooKeeperServerEmbedded.builder().baseDir(dataDir).configuration(p).exitHandler(ExitHandler.LOG_ONLY)
        .build();
    server.start(timeout.toMillis());
  }

  public String connectString() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** Stops the server, keeping its data (start() again resumes with the same state). */
  public synchronized void stop() {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  @Override
  public void close() {
    stop();
  }
}
