package dev.ferry.coordinator.zk;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election among coordinators (Curator {@link LeaderLatch}) and the connection gate.
 *
 * <p>The Curator client must use {@code SessionConnectionStateErrorPolicy}: then SUSPENDED keeps
 * the latch (the session may survive) and only LOST ends leadership. Here: SUSPENDED pauses
 * decisions ({@link Listener#paused}), RECONNECTED resumes them, LOST (or losing the latch)
 * abdicates ({@link Listener#demoted}). Callbacks run on {@code callbacks}, never on the
 * ZooKeeper event thread.
 */
public final class Leadership implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Leadership.class);

  /** What the coordinator does when its role changes. */
  public interface Listener {
    void elected();

    void demoted();

    void paused();

    void resumed();
  }

  private final CuratorFramework zk;
  private final LeaderLatch latch;
  private final String id;
  private final Listener listener;
  private final Executor callbacks;
  private final ConnectionStateListener connectionListener = this::connectionChanged;
  private volatile boolean connected = true;

  public Leadership(CuratorFramework zk, ZkLayout layout, String id, Listener listener, Executor callbacks) {
    this.zk = zk;
    this.id = id;
    this.listener = listener;
    this.callbacks = callbacks;
    this.latch = new LeaderLatch(zk, layout.leader(), id);
  }

  public void start() throws Exception {
    zk.getConnectionStateListenable().addListener(connectionListener, callbacks);
    latch.addListener(new LeaderLatchListener() {
      @Override
      public void isLeader() {
        log.info("coordinator {} is the leader", id);
        listener.elected();
      }

      @Override
      public void notLeader() {
        log.info("coordinator {} is no longer the leader", id);
        listener.demoted();
      }
    }, callbacks);
    latch.start();
  }

  private void connectionChanged(CuratorFramework client, ConnectionState state) {
    switch (state) {
      case SUSPENDED:
        connected = false;
        log.warn("ZooKeeper connection suspended: decisions paused");
        listener.paused();
        break;
      case RECONNECTED:
        connected = true;
        log.info("ZooKeeper reconnected: decisions resume");
        listener.resumed();
        break;
      case LOST:
        connected = false;
        log.warn("ZooKeeper session lost: giving up leadership");
        break;
      default:
        break;
    }
  }

  /** Leader with a live connection: may make decisions now. */
  public boolean canDecide() {
    return connected && latch.hasLeadership();
  }

  /** False from SUSPENDED until RECONNECTED (and after LOST). */
  public boolean connected() {
    return connected;
  }

  public boolean isLeader() {
    return latch.hasLeadership();
  }

  public String id() {
    return id;
  }

  /** The current leader's id (its address); blocking: not on an event thread. */
  public Optional<String> leaderId() {
    try {
      Participant p = latch.getLeader();
      return p.isLeader() ? Optional.of(p.getId()) : Optional.empty();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    zk.getConnectionStateListenable().removeListener(connectionListener);
    try {
      latch.close(LeaderLatch.CloseMode.NOTIFY_LEADER);
    } catch (IOException | IllegalStateException e) {
      log.debug("closing the leader latch: {}", e.toString());
    }
  }
}
