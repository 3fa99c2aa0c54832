package dev.ferry.coordinator.service;

import dev.ferry.agent.Agent;
import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.agent.memory.SoftDirtySupport;
import dev.ferry.agent.tracking.PrecopySessions;
import dev.ferry.agent.tracking.TrackerSettings;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.CoordinatorGrpc.CoordinatorBlockingStub;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.Phase;
import dev.ferry.proto.WatchMigrationRequest;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.Await;
import io.grpc.ManagedChannel;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Real parts on loopback for the coordinator's tests: an embedded ZooKeeper (restartable), agents
 * host1 and host2 (real gRPC, registered in ZooKeeper, the engine's trackers: the content-hash
 * tracker on this host), and coordinators.
 */
final class Cluster implements AutoCloseable {
  static final Duration DEADLINE = Duration.ofSeconds(60);

  final Path dir;
  final EmbeddedZooKeeper zk;
  final ZkLayout layout = new ZkLayout("/ferry");
  final List<Agent> agents = new ArrayList<>();
  final List<Coordinator> coordinators = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final GrpcEndpoints endpoints = new GrpcEndpoints(1, dev.ferry.service.tls.TransportSecurity.insecure("coordinator test cluster"));

  Cluster() throws Exception {
    dir = Files.createTempDirectory("ferry-coordinator-test-");
    zk = EmbeddedZooKeeper.persistent(dir.resolve("zk"), EmbeddedZooKeeper.freePort(), new java.util.Properties());
    zk.serve(Duration.ofSeconds(30));
  }

  Agent agent(String name) throws Exception {
    SoftDirtySupport probe = SoftDirtyProbe.probe();
    Agent a = Agent.start(Agent.Config.of(name, new InetSocketAddress("127.0.0.1", 0), dir.resolve(name))
        .withZookeeper(zk.connectString(), layout.root())
        .withSessions((pid, dryRun) -> PrecopySessions.open(pid, probe, TrackerSettings.defaults())));
    if (!a.awaitRegistered(DEADLINE)) {
      throw new IllegalStateException("agent " + name + " did not register");
    }
    agents.add(a);
    return a;
  }

  Coordinator coordinator() throws Exception {
    Coordinator c = new Coordinator(new Coordinator.Config(new InetSocketAddress("127.0.0.1", 0), zk.connectString(),
        layout, Duration.ofSeconds(4), endpoints)).start();
    coordinators.add(c);
    return c;
  }

  CoordinatorBlockingStub client(Coordinator c) {
    ManagedChannel ch = endpoints.channel(c.address());
    channels.add(ch);
    return CoordinatorGrpc.newBlockingStub(ch);
  }

  static CoordinatorBlockingStub deadline(CoordinatorBlockingStub s) {
    return s.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Waits until the agent directory of {@code c} lists the hosts (its cache follows ZooKeeper). */
  static void awaitAgents(CoordinatorBlockingStub c, int count) throws InterruptedException {
    await("agents registered", () -> deadline(c).listAgents(dev.ferry.proto.ListAgentsRequest.getDefaultInstance())
        .getAgentsCount() >= count);
  }

  static Phase phase(CoordinatorBlockingStub c, String id) {
    return deadline(c).getMigration(MigrationRef.newBuilder().setMigrationId(id).build()).getPhase();
  }

  /** Every event of a migration, replayed then live until it finishes. */
  static List<MigrationEvent> watchToEnd(CoordinatorBlockingStub c, String id) {
    List<MigrationEvent> out = new ArrayList<>();
    Iterator<MigrationEvent> it = c.withDeadlineAfter(5, TimeUnit.MINUTES).watchMigration(WatchMigrationRequest.newBuilder()
        .setMigrationId(id).setReplay(true).build());
    it.forEachRemaining(out::add);
    return out;
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    Await.until(what, condition, DEADLINE);
  }

  @Override
  public void close() {
    channels.forEach(ManagedChannel::shutdownNow);
    coordinators.forEach(Coordinator::close);
    agents.forEach(Agent::close);
    zk.close();
  }
}
