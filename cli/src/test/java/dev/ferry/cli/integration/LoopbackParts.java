package dev.ferry.cli.integration;

import dev.ferry.agent.Agent;
import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.agent.tracking.PrecopySessions;
import dev.ferry.agent.tracking.TrackerSettings;
import dev.ferry.cli.CliRun;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.coordinator.service.GrpcEndpoints;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.service.tls.TransportSecurity;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.Await;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The real parts the CLI's in-JVM integration tests run against on loopback, built the one way
 * they share: agents registered under /ferry in an embedded ZooKeeper with the engine's own
 * trackers (the content-hash tracker on this host, which has no soft-dirty), and coordinators
 * with the environment's deadline scale. Each test chooses the transport security and owns the
 * lifecycle (these are plain factories).
 */
final class LoopbackParts {
  static final String ROOT = "/ferry";
  static final TransportSecurity PLAINTEXT = TransportSecurity.insecure("cli test");

  private LoopbackParts() {}

  /** Agent {@code name} on a free loopback port, data under {@code dir/name}, not started. */
  static Agent.Config agentConfig(String name, Path dir, EmbeddedZooKeeper zk, TransportSecurity security) {
    return Agent.Config.of(name, new InetSocketAddress("127.0.0.1", 0), dir.resolve(name))
        .withZookeeper(zk.connectString(), ROOT)
        .withSessions((pid, dryRun) -> PrecopySessions.open(pid, SoftDirtyProbe.probe(), TrackerSettings.defaults()))
        .withSecurity(security);
  }

  /** The same agent, started. */
  static Agent agent(String name, Path dir, EmbeddedZooKeeper zk, TransportSecurity security) throws Exception {
    return Agent.start(agentConfig(name, dir, zk, security));
  }

  static Coordinator.Config coordinatorConfig(EmbeddedZooKeeper zk, TransportSecurity security) {
    return new Coordinator.Config(new InetSocketAddress("127.0.0.1", 0), zk.connectString(), new ZkLayout(ROOT),
        Duration.ofSeconds(15), GrpcEndpoints.fromEnvironment(security));
  }

  static Coordinator coordinator(EmbeddedZooKeeper zk, TransportSecurity security) throws Exception {
    return new Coordinator(coordinatorConfig(zk, security)).start();
  }

  /**
   * Waits until {@code coordinator} leads and `migrate agents` (with {@code cliSecurity}, e.g.
   * "--insecure") through it lists host1 and host2: its agent directory follows ZooKeeper.
   */
  static void awaitLeaderListingBoth(Coordinator coordinator, Duration within, String... cliSecurity) throws InterruptedException {
    Await.until("a leader that lists both agents", () -> {
      if (!coordinator.isLeader()) {
        return false;
      }
      String out = CliRun.of(CliRun.plus(new String[] {"agents", "--coordinator", coordinator.address()}, cliSecurity)).out();
      return out.contains("host1") && out.contains("host2");
    }, within);
  }
}
