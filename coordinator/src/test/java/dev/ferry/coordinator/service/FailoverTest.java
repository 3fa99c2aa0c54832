package dev.ferry.coordinator.service;

import static dev.ferry.coordinator.service.Cluster.deadline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.Agent;
import dev.ferry.coordinator.zk.MigrationStore;
import dev.ferry.proto.CoordinatorGrpc.CoordinatorBlockingStub;
import dev.ferry.proto.ListAgentsRequest;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationLimits;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.proto.Phase;
import dev.ferry.proto.StartMigrationRequest;
import dev.ferry.proto.WatchMigrationRequest;
import dev.ferry.testkit.Workload;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Coordinator failover and ZooKeeper trouble while real agents run pre-copy rounds of a real
 * workload (content-hash tracker, dry run, so the process is never frozen on this host).
 */
class FailoverTest {

  /** A limit it cannot meet: pre-copy goes on, throttling, until the round cap. */
  static StartMigrationRequest longDryRun(Workload w, int maxRounds) {
    return StartMigrationRequest.newBuilder().setPid((int) w.pid()).setSourceHost("host1").setDestinationHost("host2")
        .setDryRun(true).setLimits(MigrationLimits.newBuilder().setDowntimeLimitMillis(1)
            .setSwitchoverFixedCostMillis(100).setMaxRounds(maxRounds)).build();
  }

  @Test
  void whenTheLeaderDiesMidPreCopyTheOtherCoordinatorContinuesTheMigration() throws Exception {
    try (Cluster cluster = new Cluster();
        Workload w = Workload.memtouch().sizeMib(64).ratePagesPerSecond(4000).start()) {
      cluster.agent("host1");
      cluster.agent("host2");
      Coordinator a = cluster.coordinator();
      Coordinator b = cluster.coordinator();
      Cluster.await("a leader", () -> a.isLeader() || b.isLeader());
      Coordinator leader = a.isLeader() ? a : b;
      Coordinator follower = leader == a ? b : a;
      CoordinatorBlockingStub toLeader = cluster.client(leader);
      CoordinatorBlockingStub toFollower = cluster.client(follower);
      Cluster.awaitAgents(toLeader, 2);
      w.awaitOkLines(1, Cluster.DEADLINE);

      MigrationInfo started = deadline(toLeader).startMigration(longDryRun(w, 60));
      // the follower serves the watch: it survives the leader
      Iterator<MigrationEvent> watch = toFollower.withDeadlineAfter(5, java.util.concurrent.TimeUnit.MINUTES).watchMigration(WatchMigrationRequest.newBuilder()
          .setMigrationId(started.getId()).setReplay(true).build());
      List<MigrationEvent> events = new ArrayList<>();
      while (events.stream().filter(MigrationEvent::hasRound).count() < 2) {
        events.add(watch.next());
      }
      // the record as the leader dies: read just before the kill, since the follower adopts the
      // migration (and records itself as driver) within milliseconds of the leader's close
      MigrationStore store = new MigrationStore(follower.zooKeeper(), cluster.layout);
      MigrationStateRecord atKill = store.state(started.getId()).value();
      leader.close();
      assertEquals(Phase.PRECOPY, atKill.getPhase(), "killed during pre-copy");
      assertEquals(leader.address(), atKill.getDriver());

      Cluster.await("the follower leads", follower::isLeader);
      watch.forEachRemaining(events::add);
      MigrationEvent last = events.get(events.size() - 1);
      assertTrue(last.hasFinished(), last.toString());
      assertEquals(Phase.DONE, last.getFinished().getPhase(), last.getFinished().getReason());
      assertTrue(last.getFinished().getReason().startsWith("dry run: would not converge"),
          last.getFinished().getReason());
      MigrationStateRecord end = store.state(started.getId()).value();
      assertEquals(follower.address(), end.getDriver(), "the new leader finished it");
      // a terminal record keeps its rounds in the summary (round is the live pre-copy round)
      assertTrue(end.getSummary().getRounds() > atKill.getRound(), "rounds went on after the failover: "
          + end.getSummary().getRounds() + " rounds, killed after round " + atKill.getRound());
      for (int i = 0; i < events.size(); i++) {
        assertEquals(i, events.get(i).getSequence(), "gap-free journal across the failover");
      }
      assertTrue(w.isAlive());
      w.awaitOkBeyond(w.lastOk().orElseThrow().counter(), Cluster.DEADLINE);
      w.assertNoCorruption();
    }
  }

  @Test
  void zooKeeperRestartPausesDecisionsAndTheMigrationGoesOnAfterReconnecting() throws Exception {
    try (Cluster cluster = new Cluster();
        Workload w = Workload.memtouch().sizeMib(64).ratePagesPerSecond(4000).start()) {
      cluster.agent("host1");
      cluster.agent("host2");
      Coordinator c = cluster.coordinator();
      CoordinatorBlockingStub client = cluster.client(c);
      Cluster.await("leadership", c::isLeader);
      Cluster.awaitAgents(client, 2);
      w.awaitOkLines(1, Cluster.DEADLINE);

      MigrationInfo started = deadline(client).startMigration(longDryRun(w, 40));
      MigrationStore store = new MigrationStore(c.zooKeeper(), cluster.layout);
      Cluster.await("round 2 recorded", () -> {
        try {
          return store.state(started.getId()).value().getRound() >= 2;
        } catch (Exception e) {
          return false;
        }
      });
      cluster.zk.stop();
      // SUSPENDED: requests that decide are refused, nothing is recorded
      Cluster.await("refusing while suspended", () -> {
        try {
          deadline(client).startMigration(longDryRun(w, 40));
          return false;
        } catch (io.grpc.StatusRuntimeException e) {
          return e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE;
        }
      });
      cluster.zk.serve(Cluster.DEADLINE);
      Cluster.await("reconnected", () -> {
        try {
          return store.state(started.getId()).value() != null;
        } catch (Exception e) {
          return false;
        }
      });
      int roundAfterRestart = store.state(started.getId()).value().getRound();
      List<MigrationEvent> events = Cluster.watchToEnd(client, started.getId());
      MigrationInfo end = events.get(events.size() - 1).getFinished();
      assertEquals(Phase.DONE, end.getPhase(), end.getReason());
      assertNotEquals(roundAfterRestart, end.getRound(), "rounds continued after reconnecting");
      assertEquals(c.address(), store.state(started.getId()).value().getDriver());
      for (int i = 0; i < events.size(); i++) {
        assertEquals(i, events.get(i).getSequence(), "gap-free journal across the restart");
      }
      assertTrue(w.isAlive());
      w.assertNoCorruption();
    }
  }

  @Test
  void anAgentAppearsWithItsSessionAndDisappearsWithIt() throws Exception {
    try (Cluster cluster = new Cluster()) {
      Coordinator c = cluster.coordinator();
      CoordinatorBlockingStub client = cluster.client(c);
      Agent host3 = cluster.agent("host3");
      Cluster.awaitAgents(client, 1);
      assertEquals("host3", deadline(client).listAgents(ListAgentsRequest.getDefaultInstance()).getAgents(0)
          .getCapabilities().getHost());
      host3.close();
      Cluster.await("host3 gone", () -> deadline(client).listAgents(ListAgentsRequest.getDefaultInstance())
          .getAgentsCount() == 0);
    }
  }
}
