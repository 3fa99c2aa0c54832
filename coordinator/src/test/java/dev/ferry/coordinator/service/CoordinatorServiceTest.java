package dev.ferry.coordinator.service;

import static dev.ferry.coordinator.service.Cluster.deadline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.Agent;
import dev.ferry.proto.AgentStatus;
import dev.ferry.proto.CoordinatorGrpc.CoordinatorBlockingStub;
import dev.ferry.proto.ListAgentsRequest;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationLimits;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.Phase;
import dev.ferry.proto.StartMigrationRequest;
import dev.ferry.testkit.Workload;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Coordinator service against real agents (content-hash tracker on this host), a real
 * embedded ZooKeeper and a real memtouch workload: dry runs, watch replay, cancel, and the
 * refusals of bad requests with their Status and description.
 */
class CoordinatorServiceTest {
  static Cluster cluster;
  static CoordinatorBlockingStub client;
  static Agent host1;
  static Workload workload;

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    host1 = cluster.agent("host1");
    cluster.agent("host2");
    Coordinator c = cluster.coordinator();
    client = cluster.client(c);
    Cluster.await("leadership", c::isLeader);
    Cluster.awaitAgents(client, 2);
    workload = Workload.memtouch().sizeMib(32).ratePagesPerSecond(2000).start();
    workload.awaitOkLines(1, Cluster.DEADLINE);
  }

  @AfterAll
  static void stop() {
    if (workload != null) {
      workload.close();
    }
    cluster.close();
  }

  static StartMigrationRequest.Builder dryRun() {
    return StartMigrationRequest.newBuilder().setPid((int) workload.pid()).setSourceHost("host1")
        .setDestinationHost("host2").setDryRun(true);
  }

  static StatusRuntimeException refused(StartMigrationRequest.Builder req) {
    return assertThrows(StatusRuntimeException.class, () -> deadline(client).startMigration(req.build()));
  }

  @Test
  void dryRunRunsRoundsPredictsTheDowntimeAndLeavesTheProcessAlone() {
    MigrationInfo started = deadline(client).startMigration(dryRun().build());
    assertEquals(Phase.PENDING, started.getPhase());
    List<MigrationEvent> events = Cluster.watchToEnd(client, started.getId());
    assertTrue(events.get(0).hasStarted(), events.get(0).toString());
    for (int i = 0; i < events.size(); i++) {
      assertEquals(i, events.get(i).getSequence(), "gap-free sequence");
    }
    List<MigrationEvent> rounds = events.stream().filter(MigrationEvent::hasRound).toList();
    assertTrue(rounds.size() >= 2, "rounds: " + rounds.size());
    assertTrue(rounds.get(0).getRound().getFigures().getDirtyPages() >= 32 * 256,
        "round 1 copies the whole 32 MiB: " + rounds.get(0).getRound().getFigures());
    assertFalse(rounds.get(0).getRound().getDecision().getReason().isEmpty());
    MigrationEvent last = events.get(events.size() - 1);
    assertTrue(last.hasFinished(), last.toString());
    assertEquals(Phase.DONE, last.getFinished().getPhase(), last.getFinished().getReason());
    assertTrue(last.getFinished().getReason().startsWith("dry run: "), last.getFinished().getReason());
    assertTrue(last.getFinished().getSummary().getPredictedDowntimeMillis() > 0);
    assertEquals(rounds.size(), last.getFinished().getSummary().getRounds());
    assertTrue(workload.isAlive());
    workload.awaitOkBeyond(workload.lastOk().orElseThrow().counter(), Cluster.DEADLINE);
    workload.assertNoCorruption();
  }

  @Test
  void aPidIsMigratedOnceAtATimeAndCancelLeavesItRunning() throws Exception {
    // a limit it cannot meet and many rounds: pre-copy goes on until cancelled
    MigrationInfo first = deadline(client).startMigration(dryRun().setLimits(MigrationLimits.newBuilder()
        .setDowntimeLimitMillis(1).setSwitchoverFixedCostMillis(100).setMaxRounds(1000)).build());
    StatusRuntimeException busy = refused(dryRun());
    assertEquals(Status.Code.ALREADY_EXISTS, busy.getStatus().getCode());
    assertTrue(busy.getStatus().getDescription().contains("already being migrated by " + first.getId()),
        busy.getStatus().getDescription());
    Cluster.await("pre-copy", () -> Cluster.phase(client, first.getId()) == Phase.PRECOPY);
    MigrationInfo cancelling = deadline(client).cancelMigration(MigrationRef.newBuilder()
        .setMigrationId(first.getId()).build());
    assertTrue(cancelling.getPhase() == Phase.ROLLING_BACK || cancelling.getPhase() == Phase.CANCELLED,
        cancelling.toString());
    List<MigrationEvent> events = Cluster.watchToEnd(client, first.getId());
    MigrationInfo end = events.get(events.size() - 1).getFinished();
    assertEquals(Phase.CANCELLED, end.getPhase(), end.getReason());
    assertEquals("cancelled by the operator", end.getReason());
    StatusRuntimeException again = assertThrows(StatusRuntimeException.class, () -> deadline(client)
        .cancelMigration(MigrationRef.newBuilder().setMigrationId(first.getId()).build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, again.getStatus().getCode());
    assertTrue(workload.isAlive());
    workload.awaitOkBeyond(workload.lastOk().orElseThrow().counter(), Cluster.DEADLINE);
    workload.assertNoCorruption();
  }

  @Test
  void unknownHostIsNotFoundAndNamesTheRegisteredOnes() {
    StatusRuntimeException e = refused(dryRun().setDestinationHost("host9"));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertEquals("unknown host 'host9': no agent registered under that name (registered: host1, host2)",
        e.getStatus().getDescription());
  }

  @Test
  void sameHostIsAFailedPrecondition() {
    StatusRuntimeException e = refused(dryRun().setDestinationHost("host1"));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().startsWith("source and destination are the same host host1"),
        e.getStatus().getDescription());
  }

  @Test
  void aPidNotOnTheSourceIsNotFound() {
    StatusRuntimeException e = refused(dryRun().setPid(Integer.MAX_VALUE - 7));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().startsWith("pid " + (Integer.MAX_VALUE - 7) + " on host1: "),
        e.getStatus().getDescription());
  }

  @Test
  void limitsOutOfRangeAreInvalidAndNamed() {
    StatusRuntimeException e = refused(dryRun().setLimits(MigrationLimits.newBuilder().setMaxRounds(5000)
        .setDowntimeLimitMillis(-3)));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("max rounds 5000 is out of range [1, 1000]"),
        e.getStatus().getDescription());
    assertTrue(e.getStatus().getDescription().contains("downtime limit -3 ms is out of range"),
        e.getStatus().getDescription());
  }

  @Test
  void aRealSwitchOverWithoutSoftDirtyOrCriuIsRefusedUpFront() {
    AgentStatus h1 = deadline(client).listAgents(ListAgentsRequest.getDefaultInstance()).getAgents(0);
    Assumptions.assumeFalse(h1.getCapabilities().getSoftDirty() && h1.getCapabilities().getCriuUsable(),
        "this host can switch over");
    StatusRuntimeException e = refused(dryRun().setDryRun(false));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    String d = e.getStatus().getDescription();
    assertTrue(d.startsWith("cannot switch over: host1 has no"), d);
    assertTrue(d.contains("--dry-run"), d);
    assertTrue(workload.isAlive());
  }

  @Test
  void agentsAreListedWithHealth() {
    List<AgentStatus> agents = deadline(client).listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList();
    assertEquals(List.of("host1", "host2"), agents.stream().map(a -> a.getCapabilities().getHost()).toList());
    assertTrue(agents.stream().allMatch(AgentStatus::getHealthy), agents.toString());
    assertTrue(agents.get(0).getRegisteredUnixMillis() > 0);
  }
}
