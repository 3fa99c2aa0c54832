package dev.ferry.coordinator.zk;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationPlanRecord;
import dev.ferry.proto.MigrationStateRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Migrations in ZooKeeper ({@link ZkLayout}). Every state change is one transaction: a
 * compare-and-set of the state znode's version plus the journal events it produced (and, at the
 * end, the release of the pid). All calls block on ZooKeeper: call them from the coordinator's
 * own threads, never from a gRPC or ZooKeeper event thread.
 */
public final class MigrationStore {
  private final CuratorFramework zk;
  private final ZkLayout layout;

  public MigrationStore(CuratorFramework zk, ZkLayout layout) {
    this.zk = zk;
    this.layout = layout;
  }

  public ZkLayout layout() {
    return layout;
  }

  /** Creates the persistent parents of the layout (idempotent). */
  public void ensureLayout() throws StoreException {
    for (String p : List.of(layout.agents(), layout.migrations(), layout.active(), layout.estimates(), layout.leader())) {
      try {
        zk.create().orSetData().creatingParentsIfNeeded().forPath(p);
      } catch (KeeperException.NodeExistsException e) {
        // another coordinator made it
      } catch (Exception e) {
        throw unavailable("creating " + p, e);
      }
    }
  }

  /**
   * Creates a migration with its first state and events, and claims its pid.
   *
   * @throws StoreException PID_BUSY naming the migration holding the pid
   */
  public void create(MigrationPlanRecord plan, MigrationStateRecord state, List<MigrationEvent> events)
      throws StoreException {
    String id = plan.getId();
    String active = layout.activePid(plan.getSourceHost(), plan.getPid());
    List<CuratorOp> ops = new ArrayList<>();
    try {
      ops.add(zk.transactionOp().create().forPath(active, id.getBytes(StandardCharsets.UTF_8)));
      ops.add(zk.transactionOp().create().forPath(layout.migration(id)));
      ops.add(zk.transactionOp().create().forPath(layout.plan(id), plan.toByteArray()));
      ops.add(zk.transactionOp().create().forPath(layout.state(id), state.toByteArray()));
      ops.add(zk.transactionOp().create().forPath(layout.events(id)));
      for (MigrationEvent e : events) {
        ops.add(zk.transactionOp().create().forPath(layout.event(id, e.getSequence()), e.toByteArray()));
      }
      zk.transaction().forOperations(ops);
    } catch (KeeperException.NodeExistsException e) {
      String holder = activeMigration(plan.getSourceHost(), plan.getPid()).orElse("another migration");
      throw new StoreException(StoreException.Kind.PID_BUSY,
          "pid " + plan.getPid() + " on " + plan.getSourceHost() + " is already being migrated by " + holder, e);
    } catch (Exception e) {
      throw unavailable("creating migration " + id, e);
    }
  }

  public Versioned<MigrationStateRecord> state(String id) throws StoreException {
    Stat stat = new Stat();
    byte[] data = read(layout.state(id), stat, id);
    try {
      return new Versioned<>(MigrationStateRecord.parseFrom(data), stat.getVersion());
    } catch (InvalidProtocolBufferException e) {
      throw unavailable("state of " + id + " is unreadable", e);
    }
  }

  public MigrationPlanRecord plan(String id) throws StoreException {
    try {
      return MigrationPlanRecord.parseFrom(read(layout.plan(id), null, id));
    } catch (InvalidProtocolBufferException e) {
      throw unavailable("plan of " + id + " is unreadable", e);
    }
  }

  /**
   * Compare-and-set of the state with its journal events; on a terminal state also releases the
   * pid. Returns the new version.
   *
   * @throws LostRaceException the state changed since {@code expectedVersion} was read
   */
  public int write(String id, int expectedVersion, MigrationStateRecord next, List<MigrationEvent> events,
      Optional<String> releaseActive) throws LostRaceException, StoreException {
    List<CuratorOp> ops = new ArrayList<>();
    try {
      ops.add(zk.transactionOp().setData().withVersion(expectedVersion).forPath(layout.state(id), next.toByteArray()));
      for (MigrationEvent e : events) {
        ops.add(zk.transactionOp().create().forPath(layout.event(id, e.getSequence()), e.toByteArray()));
      }
      if (releaseActive.isPresent()) {
        ops.add(zk.transactionOp().delete().forPath(releaseActive.get()));
      }
      zk.transaction().forOperations(ops);
      return expectedVersion + 1;
    } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
      throw new LostRaceException("migration " + id + " was changed by someone else (state version "
          + expectedVersion + " is stale)");
    } catch (KeeperException.NoNodeException e) {
      throw new StoreException(StoreException.Kind.NOT_FOUND, "no migration " + id, e);
    } catch (Exception e) {
      throw unavailable("writing the state of " + id, e);
    }
  }

  /** The journal event with this sequence, or empty if not (yet) written. */
  public Optional<MigrationEvent> event(String id, long sequence) throws StoreException {
    try {
      return Optional.of(MigrationEvent.parseFrom(zk.getData().forPath(layout.event(id, sequence))));
    } catch (KeeperException.NoNodeException e) {
      return Optional.empty();
    } catch (Exception e) {
      throw unavailable("reading event " + sequence + " of " + id, e);
    }
  }

  /** Every journal event, in sequence order. */
  public List<MigrationEvent> events(String id) throws StoreException {
    List<MigrationEvent> out = new ArrayList<>();
    for (long seq = 0; ; seq++) {
      Optional<MigrationEvent> e = event(id, seq);
      if (e.isEmpty()) {
        return out;
      }
      out.add(e.get());
    }
  }

  /** Ids of every recorded migration, newest first (ids sort by creation time). */
  public List<String> ids() throws StoreException {
    try {
      List<String> ids = new ArrayList<>(zk.getChildren().forPath(layout.migrations()));
      ids.sort(Collections.reverseOrder());
      return ids;
    } catch (Exception e) {
      throw unavailable("listing migrations", e);
    }
  }

  public Optional<String> activeMigration(String host, int pid) {
    try {
      return Optional.of(new String(zk.getData().forPath(layout.activePid(host, pid)), StandardCharsets.UTF_8));
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  /** The destination host's switch-over fixed cost, or {@code fallback} if none was measured. */
  public Duration switchoverCost(String host, Duration fallback) {
    try {
      String text = new String(zk.getData().forPath(layout.estimate(host)), StandardCharsets.UTF_8).trim();
      return Duration.ofMillis(Long.parseLong(text));
    } catch (Exception e) {
      return fallback;
    }
  }

  public void recordSwitchoverCost(String host, Duration cost) throws StoreException {
    try {
      zk.create().orSetData().creatingParentsIfNeeded().forPath(layout.estimate(host),
          Long.toString(cost.toMillis()).getBytes(StandardCharsets.UTF_8));
    } catch (Exception e) {
      throw unavailable("recording the switch-over cost of " + host, e);
    }
  }

  private byte[] read(String path, Stat stat, String id) throws StoreException {
    try {
      return stat == null ? zk.getData().forPath(path) : zk.getData().storingStatIn(stat).forPath(path);
    } catch (KeeperException.NoNodeException e) {
      throw new StoreException(StoreException.Kind.NOT_FOUND, "no migration " + id, e);
    } catch (Exception e) {
      throw unavailable("reading " + path, e);
    }
  }

  private static StoreException unavailable(String what, Exception e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    return new StoreException(StoreException.Kind.UNAVAILABLE, "ZooKeeper: " + what + " failed: " + e, e);
  }
}
