package dev.ferry.coordinator.zk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationPlanRecord;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.proto.Phase;
import dev.ferry.proto.PhaseEvent;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store against a real embedded ZooKeeper: compare-and-set, journal, pid claims. */
class MigrationStoreTest {
  static EmbeddedZooKeeper server;
  static CuratorFramework zk;
  static MigrationStore store;

  @BeforeAll
  static void start() throws Exception {
    server = EmbeddedZooKeeper.start();
    zk = CuratorFrameworkFactory.newClient(server.connectString(), new RetryOneTime(100));
    zk.start();
    zk.blockUntilConnected();
    store = new MigrationStore(zk, new ZkLayout("/ferry-store-test"));
    store.ensureLayout();
  }

  @AfterAll
  static void stop() {
    zk.close();
    server.close();
  }

  static MigrationPlanRecord plan(String id, int pid) {
    return MigrationPlanRecord.newBuilder().setId(id).setPid(pid).setSourceHost("host1").setDestinationHost("host2")
        .build();
  }

  static MigrationEvent phase(String id, long seq, Phase p) {
    return MigrationEvent.newBuilder().setMigrationId(id).setSequence(seq)
        .setPhase(PhaseEvent.newBuilder().setPhase(p)).build();
  }

  @Test
  void aStaleVersionLosesTheRaceInsteadOfOverwriting() throws Exception {
    MigrationStateRecord pending = MigrationStateRecord.newBuilder().setPhase(Phase.PENDING).setNextSequence(1).build();
    store.create(plan("m-cas", 100), pending, List.of(phase("m-cas", 0, Phase.PENDING)));
    Versioned<MigrationStateRecord> read = store.state("m-cas");
    MigrationStateRecord precopy = pending.toBuilder().setPhase(Phase.PRECOPY).setNextSequence(2).build();
    int v = store.write("m-cas", read.version(), precopy, List.of(phase("m-cas", 1, Phase.PRECOPY)), Optional.empty());
    assertEquals(read.version() + 1, v);
    MigrationStateRecord other = pending.toBuilder().setPhase(Phase.ROLLING_BACK).setNextSequence(2).build();
    LostRaceException lost = assertThrows(LostRaceException.class, () -> store.write("m-cas", read.version(), other,
        List.of(phase("m-cas", 1, Phase.ROLLING_BACK)), Optional.empty()));
    assertTrue(lost.getMessage().contains("changed by someone else"), lost.getMessage());
    assertEquals(Phase.PRECOPY, store.state("m-cas").value().getPhase());
    assertEquals(List.of(Phase.PENDING, Phase.PRECOPY),
        store.events("m-cas").stream().map(e -> e.getPhase().getPhase()).toList());
  }

  @Test
  void aPidIsMigratedOnceAtATimeAndReleasedAtTheEnd() throws Exception {
    MigrationStateRecord pending = MigrationStateRecord.newBuilder().setPhase(Phase.PENDING).setNextSequence(1).build();
    store.create(plan("m-a", 200), pending, List.of(phase("m-a", 0, Phase.PENDING)));
    StoreException busy = assertThrows(StoreException.class,
        () -> store.create(plan("m-b", 200), pending, List.of(phase("m-b", 0, Phase.PENDING))));
    assertEquals(StoreException.Kind.PID_BUSY, busy.kind());
    assertEquals("pid 200 on host1 is already being migrated by m-a", busy.getMessage());
    assertThrows(StoreException.class, () -> store.state("m-b"), "the losing create left nothing behind");
    Versioned<MigrationStateRecord> s = store.state("m-a");
    store.write("m-a", s.version(), pending.toBuilder().setPhase(Phase.CANCELLED).setNextSequence(2).build(),
        List.of(phase("m-a", 1, Phase.CANCELLED)), Optional.of(store.layout().activePid("host1", 200)));
    store.create(plan("m-c", 200), pending, List.of(phase("m-c", 0, Phase.PENDING)));
    assertEquals(Optional.of("m-c"), store.activeMigration("host1", 200));
  }

  @Test
  void unknownMigrationIsNotFound() {
    StoreException e = assertThrows(StoreException.class, () -> store.state("m-nope"));
    assertEquals(StoreException.Kind.NOT_FOUND, e.kind());
  }
}
