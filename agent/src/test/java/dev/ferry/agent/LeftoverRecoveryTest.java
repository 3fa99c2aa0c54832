package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.agent.criu.Restorer;
import dev.ferry.agent.destination.RestoreHandler;
import dev.ferry.agent.recovery.RestoredOrphans;
import dev.ferry.agent.shutdown.MigrationGuards;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.proto.Phase;
import dev.ferry.proto.PrepareReceiveRequest;
import dev.ferry.proto.RestoreReply;
import dev.ferry.proto.ResumeRestoredReply;
import dev.ferry.service.systemd.RollbackJournal;
import dev.ferry.testkit.Await;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restarted agent settles the stopped copies an earlier run left in a switch-over from the
 * migrations' records in a real (embedded) ZooKeeper, never running two copies: a destination's
 * restored copy is resumed once committed and killed once rolled back; a source's stopped copy is
 * killed once committed and resumed once rolled back; before the commit both wait. Stopped child
 * processes (kill -STOP) stand in for the copies CRIU left stopped; the agents are real (gRPC on
 * loopback). Also: a restored copy the killed run never recorded (it died inside criu restore) is
 * found by CRIU's pid file and discarded by the coordinator's Discard; and the destination's store
 * is removed once the commit has been acted on.
 */
class LeftoverRecoveryTest {
  private static final Duration WITHIN = Duration.ofSeconds(30);
  private static EmbeddedZooKeeper zk;
  private static CuratorFramework client;
  private final List<Process> children = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final AgentTransport transport = new AgentTransport(DeadlineScale.ONE);

  @BeforeAll
  static void zookeeper() throws InterruptedException {
    zk = EmbeddedZooKeeper.start();
    client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(200));
    client.start();
    assertTrue(client.blockUntilConnected(30, TimeUnit.SECONDS));
  }

  @AfterAll
  static void stopZookeeper() {
    client.close();
    zk.close();
  }

  @AfterEach
  void killChildrenAndCloseChannels() {
    channels.forEach(ManagedChannel::shutdownNow);
    children.forEach(Process::destroyForcibly);
  }

  @Test
  void destinationCopiesAreResumedWhenCommittedKilledWhenRolledBackAndWaitBeforeTheCommit(@TempDir Path dir) throws Exception {
    Path journalDir = dir.resolve("rollbacks");
    RollbackJournal before = RollbackJournal.open(journalDir);
    Process committed = leftover(before, "destination", "d-committed", Phase.COMMITTED);
    Process failed = leftover(before, "destination", "d-failed", Phase.FAILED);
    Process restoring = leftover(before, "destination", "d-restoring", Phase.RESTORING);

    try (Agent agent = restarted("host2", dir, journalDir)) {
      Await.until("committed: the restored copy resumed", () -> state(committed) == 'S' || state(committed) == 'R', WITHIN);
      Await.until("rolled back: the restored copy killed", () -> !failed.isAlive(), WITHIN);
      // the same pass read all three records: before its commit the copy waits for the coordinator
      assertEquals('T', state(restoring), "RESTORING: left stopped");
      state("d-restoring", Phase.ROLLING_BACK);
      Await.until("rolled back later: killed", () -> !restoring.isAlive(), WITHIN);
      assertTrue(committed.isAlive(), "exactly the committed copy runs");
      Await.until("the settled records are removed", () -> records(journalDir) == 0, WITHIN);
    }
  }

  @Test
  void sourceCopiesAreKilledWhenCommittedAndResumedWhenRolledBack(@TempDir Path dir) throws Exception {
    Path journalDir = dir.resolve("rollbacks");
    RollbackJournal before = RollbackJournal.open(journalDir);
    Process committed = leftover(before, "source", "s-committed", Phase.DONE);
    Process cancelled = leftover(before, "source", "s-cancelled", Phase.CANCELLED);

    try (Agent agent = restarted("host1", dir, journalDir)) {
      Await.until("committed: the source copy killed", () -> !committed.isAlive(), WITHIN);
      Await.until("rolled back: the source copy resumed", () -> state(cancelled) == 'S' || state(cancelled) == 'R', WITHIN);
      Await.until("the settled records are removed", () -> records(journalDir) == 0, WITHIN);
    }
  }

  @Test
  void aRestoreTheKilledRunNeverRecordedIsFoundByCriusPidFileAndDiscardedOnRollback(@TempDir Path dir) throws Exception {
    Path stores = dir.resolve("stores");
    // The killed run began a restore (its mark), CRIU restored and wrote the pid file; the copy is stopped.
    Path orphanDir = Files.createDirectories(stores.resolve("o-orphan").resolve("final"));
    RestoredOrphans.markBegun(orphanDir.getParent());
    Process orphan = stoppedChild();
    Files.writeString(orphanDir.getParent().resolve(Restorer.PID_FILE), Long.toString(orphan.pid()));
    // A pid file whose process started before its restore began: a reused pid, never signalled.
    Path reusedDir = Files.createDirectories(stores.resolve("o-reused"));
    Process unrelated = stoppedChild();
    RestoredOrphans.markBegun(reusedDir, uptime().plusSeconds(60));
    Files.writeString(reusedDir.resolve(Restorer.PID_FILE), Long.toString(unrelated.pid()));
    state("o-orphan", Phase.ROLLING_BACK);
    active("o-orphan"); // unfinished: its store is not swept at start, the coordinator's Discard removes it
    state("o-reused", Phase.FAILED);

    try (Agent agent = Agent.start(config("host3", dir), MigrationGuards.none())) {
      // The coordinator's rollback reaches the restarted agent: Discard.
      destination(agent).discard(MigrationRef.newBuilder().setMigrationId("o-orphan").build());
      Await.until("the orphaned restored copy killed", () -> !orphan.isAlive(), WITHIN);
      assertFalse(Files.exists(orphanDir.getParent()), "its store and images are removed");
      assertEquals('T', state(unrelated), "a process that merely reused the pid is left alone");
    }
  }

  @Test
  void theStoreIsRemovedOnceTheCommitIsActedOn(@TempDir Path dir) throws Exception {
    Process restored = stoppedChild();
    // CRIU's part (restore, resume) by a stand-in handler over a stopped child; the store and its
    // lifecycle are the agent's own.
    RestoreHandler standIn = new RestoreHandler() {
      @Override
      public RestoreReply restore(PageStore store) throws StatusException {
        try {
          Files.createDirectories(Restorer.finalDir(store.directory()));
          Files.writeString(Restorer.finalDir(store.directory()).resolve("core-1.img"), "image");
        } catch (IOException e) {
          throw Status.INTERNAL.withDescription(e.toString()).asException();
        }
        return RestoreReply.newBuilder().setRestoredPid((int) restored.pid()).build();
      }

      @Override
      public ResumeRestoredReply resume(String migrationId) {
        signal("CONT", restored.pid());
        return ResumeRestoredReply.newBuilder().setPid((int) restored.pid()).build();
      }

      @Override
      public void killRestored(String migrationId) {}
    };
    try (Agent agent = Agent.start(config("host2", dir).withRestores(standIn), MigrationGuards.none())) {
      var stub = destination(agent);
      MigrationRef ref = MigrationRef.newBuilder().setMigrationId("c-moved").build();
      stub.prepareReceive(PrepareReceiveRequest.newBuilder().setMigrationId("c-moved").setSourceHost("host1")
          .setStreamToken(ByteString.copyFrom(new byte[32])).build());
      Path store = agent.stores().directoryOf("c-moved");
      assertEquals((int) restored.pid(), stub.restore(ref).getRestoredPid());
      assertTrue(Files.exists(store.resolve(RestoredOrphans.BEGUN)), "the restore's start is marked for a restarted agent");
      assertTrue(Files.exists(Restorer.finalDir(store)));
      stub.resumeRestored(ref);
      Await.until("store and images removed after the commit was acted on", () -> !Files.exists(store), WITHIN);
      assertTrue(restored.isAlive() && state(restored) != 'T', "the restored copy runs");
    }
  }

  // ------------------------------------------------------------------------------------------

  private static Agent.Config config(String name, Path dir) {
    return Agent.Config.of(name, new InetSocketAddress("127.0.0.1", 0), dir).withZookeeper(zk.connectString(), "/ferry");
  }

  /** The agent's new run after an earlier one left the copies recorded in {@code journalDir}. */
  private static Agent restarted(String name, Path dir, Path journalDir) throws IOException {
    return Agent.start(config(name, dir), new MigrationGuards(null, RollbackJournal.open(journalDir)));
  }

  /**
   * A copy the earlier run left stopped in a switch-over: recorded in its journal as the source's
   * dumped copy ("switchover") or the destination's restored one ("restored"), the migration in
   * {@code phase} in ZooKeeper.
   */
  private Process leftover(RollbackJournal journal, String role, String id, Phase phase) throws Exception {
    Process p = stoppedChild();
    record(journal, role, id, role.equals("source") ? "switchover" : "restored", p);
    state(id, phase);
    return p;
  }

  /** The agent's DestinationAgent service, as the coordinator calls it; the channel closes after the test. */
  private DestinationAgentGrpc.DestinationAgentBlockingStub destination(Agent agent) {
    ManagedChannel channel = transport.channel(agent.address());
    channels.add(channel);
    return DestinationAgentGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private Process stoppedChild() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sleep", "600").start();
    children.add(p);
    signal("STOP", p.pid());
    Await.until("child " + p.pid() + " stopped", () -> state(p) == 'T', WITHIN);
    return p;
  }

  private static void record(RollbackJournal journal, String role, String id, String phase, Process p) throws IOException {
    journal.record(role + "-" + id, p.pid(), Map.of("role", role, "migration", id, "phase", phase));
  }

  private static void state(String id, Phase phase) throws Exception {
    byte[] data = MigrationStateRecord.newBuilder().setPhase(phase).build().toByteArray();
    String path = "/ferry/migrations/" + id + "/state";
    if (client.checkExists().forPath(path) == null) {
      client.create().creatingParentsIfNeeded().forPath(path, data);
    } else {
      client.setData().forPath(path, data);
    }
  }

  private static void active(String id) throws Exception {
    client.create().creatingParentsIfNeeded().forPath("/ferry/active/host3:" + id, id.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static Duration uptime() throws IOException {
    return Duration.ofMillis((long) (Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split("\\s+")[0]) * 1000));
  }

  private static char state(Process p) {
    try {
      String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (IOException gone) {
      return '?';
    }
  }

  private static void signal(String name, long pid) {
    try {
      assertEquals(0, new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start().waitFor());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static long records(Path journalDir) {
    try (var files = Files.list(journalDir)) {
      return files.filter(f -> f.toString().endsWith(".rollback")).count();
    } catch (IOException e) {
      return -1;
    }
  }
}
