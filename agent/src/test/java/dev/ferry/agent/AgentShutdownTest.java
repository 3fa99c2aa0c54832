package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.agent.shutdown.MigrationGuards;
import dev.ferry.agent.source.CheckpointHandler;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.proto.CheckpointReply;
import dev.ferry.proto.CheckpointRequest;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.SourceAgentGrpc;
import dev.ferry.proto.StartTrackingRequest;
import dev.ferry.service.systemd.GracefulShutdown;
import dev.ferry.service.systemd.RollbackJournal;
import dev.ferry.service.systemd.ServiceNotifier;
import dev.ferry.service.systemd.ShutdownOutcome;
import dev.ferry.testkit.Await;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's migrations wired to its stop sequence, with real agents (gRPC on loopback) and a
 * real child process: SIGTERM in pre-copy resumes a stopped source; in the switch-over it waits
 * for the coordinator's decision and, without one, leaves the record the next run adopts; a
 * record a killed run left in pre-copy is resumed at start.
 */
class AgentShutdownTest {
  private static final ServiceNotifier NO_SYSTEMD = ServiceNotifier.fromEnvironment(Map.of());
  private final AgentTransport transport = new AgentTransport(DeadlineScale.ONE);
  private Process child;

  @AfterEach
  void killChild() {
    if (child != null) {
      child.destroyForcibly();
    }
  }

  @Test
  void sigtermInPrecopyResumesTheStoppedSourceAndForgetsTheMigration(@TempDir Path dir) throws Exception {
    GracefulShutdown shutdown = new GracefulShutdown(NO_SYSTEMD, Duration.ofSeconds(20));
    Path journalDir = dir.resolve("rollbacks");
    try (Agent agent = Agent.start(config(dir), new MigrationGuards(shutdown, RollbackJournal.open(journalDir)))) {
      int pid = startChild();
      ManagedChannel channel = transport.channel(agent.address());
      try {
        startTracking(channel, agent, "m-pre", pid);
        assertEquals(1, agent.capabilities().getActiveMigrations());
        assertEquals(1, records(journalDir), "the migration is recorded before anything freezes");
        signal("STOP", pid); // a freeze or throttle cut short by the stop
        await("the child is stopped", () -> state(pid) == 'T');

        ShutdownOutcome outcome = shutdown.shutdown("test");
        assertTrue(outcome.clean(), outcome.summary());
        assertEquals(1, outcome.rolledBack().size(), outcome.summary());
        await("the source runs again", () -> state(pid) != 'T');
        assertEquals(0, agent.capabilities().getActiveMigrations(), "the migration is forgotten");
        assertEquals(0, records(journalDir), "its record is removed");
        StatusRuntimeException round = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
            () -> stub(channel).checkpoint(CheckpointRequest.newBuilder().setMigrationId("m-pre").build()));
        assertEquals(Status.Code.NOT_FOUND, round.getStatus().getCode(), "the coordinator's next call finds it gone");
        StatusRuntimeException late = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
            () -> startTracking(channel, agent, "m-late", pid));
        assertEquals(Status.Code.UNAVAILABLE, late.getStatus().getCode(), "no new migration once stopping");
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void inTheSwitchoverTheStopWaitsForTheCoordinatorThenTheNextRunAdoptsTheStoppedSource(@TempDir Path dir) throws Exception {
    // The switch-over's checkpoint leaves the source stopped (criu dump --leave-stopped): from then
    // on only the coordinator's commit may decide which copy runs.
    CheckpointHandler stopsTheSource = (migration, request) -> {
      signal("STOP", migration.pid());
      // kill(1) returns once the signal is queued; the process is stopped when next scheduled
      // (criu dump --leave-stopped returns with the tree already stopped: so must this stand-in)
      await("the source stopped", () -> state(migration.pid()) == 'T');
      return CheckpointReply.getDefaultInstance();
    };
    Path journalDir = dir.resolve("rollbacks");
    int pid = startChild();

    // 1. the coordinator decides during the stop (KillSource: it committed)
    GracefulShutdown first = new GracefulShutdown(NO_SYSTEMD, Duration.ofSeconds(30));
    try (Agent agent = Agent.start(config(dir).withCheckpoints(stopsTheSource),
        new MigrationGuards(first, RollbackJournal.open(journalDir)))) {
      ManagedChannel channel = transport.channel(agent.address());
      try {
        startTracking(channel, agent, "m-commit", pid);
        stub(channel).checkpoint(CheckpointRequest.newBuilder().setMigrationId("m-commit").build());
        assertEquals('T', state(pid));
        CompletableFuture<ShutdownOutcome> stopping = CompletableFuture.supplyAsync(() -> first.shutdown("test"));
        await("the stop has begun", first::stopping);
        assertFalse(stopping.isDone(), "the stop waits for the coordinator");
        assertEquals('T', state(pid), "and does not resume the source on its own");
        assertTrue(stub(channel).killSource(ref("m-commit")).getKilled());
        ShutdownOutcome outcome = stopping.get(30, TimeUnit.SECONDS);
        assertTrue(outcome.clean(), outcome.summary());
        assertTrue(child.waitFor(10, TimeUnit.SECONDS), "the committed source is gone");
        assertEquals(0, records(journalDir));
      } finally {
        channel.shutdownNow();
      }
    }

    // 2. no decision before the stop deadline: the source stays stopped, recorded; the next run
    //    adopts it and the coordinator's ResumeSource (it rolled back) resumes it
    int pid2 = startChild();
    GracefulShutdown second = new GracefulShutdown(NO_SYSTEMD, Duration.ofSeconds(4));
    try (Agent agent = Agent.start(config(dir).withCheckpoints(stopsTheSource),
        new MigrationGuards(second, RollbackJournal.open(journalDir)))) {
      ManagedChannel channel = transport.channel(agent.address());
      try {
        startTracking(channel, agent, "m-undecided", pid2);
        stub(channel).checkpoint(CheckpointRequest.newBuilder().setMigrationId("m-undecided").build());
        ShutdownOutcome outcome = second.shutdown("test");
        assertFalse(outcome.clean(), "an undecided switch-over is reported: " + outcome.summary());
        assertEquals('T', state(pid2), "the source is left stopped for the coordinator");
        assertEquals(1, records(journalDir), "and recorded for the next run");
      } finally {
        channel.shutdownNow();
      }
    }
    GracefulShutdown third = new GracefulShutdown(NO_SYSTEMD, Duration.ofSeconds(10));
    try (Agent agent = Agent.start(config(dir), new MigrationGuards(third, RollbackJournal.open(journalDir)))) {
      assertEquals('T', state(pid2), "the restarted agent does not resume it alone");
      ManagedChannel channel = transport.channel(agent.address());
      try {
        assertTrue(stub(channel).resumeSource(ref("m-undecided")).getWasStopped());
        await("the adopted source runs again", () -> state(pid2) != 'T');
        assertEquals(0, records(journalDir), "settled: the record is gone");
      } finally {
        channel.shutdownNow();
      }
      third.shutdown("test");
    }
  }

  @Test
  void aRecordAKilledRunLeftInPrecopyIsResumedAtStart(@TempDir Path dir) throws Exception {
    int pid = startChild();
    Path journalDir = dir.resolve("rollbacks");
    // what a run killed (kill -9) in the middle of a round leaves: the record and a stopped process
    RollbackJournal.open(journalDir).record("source-m-killed", pid, Map.of("role", "source", "migration", "m-killed",
        "phase", "precopy"));
    signal("STOP", pid);
    await("the child is stopped", () -> state(pid) == 'T');
    GracefulShutdown shutdown = new GracefulShutdown(NO_SYSTEMD, Duration.ofSeconds(10));
    try (Agent agent = Agent.start(config(dir), new MigrationGuards(shutdown, RollbackJournal.open(journalDir)))) {
      await("the restarted agent resumed it", () -> state(pid) != 'T');
      assertEquals(0, records(journalDir));
      shutdown.shutdown("test");
    }
  }

  private Agent.Config config(Path dir) {
    return Agent.Config.of("host1", new InetSocketAddress("127.0.0.1", 0), dir.resolve("data"));
  }

  private int startChild() throws IOException {
    child = new ProcessBuilder("sleep", "600").start();
    return (int) child.pid();
  }

  private SourceAgentGrpc.SourceAgentBlockingStub stub(ManagedChannel channel) {
    return transport.withDeadline(SourceAgentGrpc.newBlockingStub(channel), Duration.ofSeconds(30));
  }

  private void startTracking(ManagedChannel channel, Agent agent, String id, int pid) {
    stub(channel).startTracking(StartTrackingRequest.newBuilder().setMigrationId(id).setPid(pid).setDryRun(true)
        .setDestinationHost("host2").setDestinationAddress(agent.address())
        .setStreamToken(ByteString.copyFrom(new byte[32])).build());
  }

  private static MigrationRef ref(String id) {
    return MigrationRef.newBuilder().setMigrationId(id).build();
  }

  private static void signal(String name, int pid) {
    try {
      assertEquals(0, new ProcessBuilder("kill", "-" + name, Integer.toString(pid)).start().waitFor());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static char state(int pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (IOException gone) {
      return '?';
    }
  }

  private static long records(Path journalDir) throws IOException {
    try (var files = Files.list(journalDir)) {
      return files.filter(f -> f.toString().endsWith(".rollback")).count();
    }
  }

  /** State another process changes (its /proc state): there is no event to wait on. */
  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    Await.until(what, condition, Duration.ofSeconds(20));
  }
}
