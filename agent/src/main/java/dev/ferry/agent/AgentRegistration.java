package dev.ferry.agent;

import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.proto.Phase;
import java.util.Optional;
import dev.ferry.service.zookeeper.ZooKeeperCredentials;
import dev.ferry.service.zookeeper.ZooKeeperSecurity;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;

/**
 * The agent's EPHEMERAL node {@code <root>/agents/<name>} holding its serialized
 * AgentCapabilities. Curator's PersistentNode re-creates it after a session loss, so the agent
 * reappears by itself once ZooKeeper is back; {@link #update} refreshes the figures.
 */
final class AgentRegistration implements AutoCloseable {
  private final CuratorFramework client;
  private final PersistentNode node;
  private final String root;
  private final String path;

  /** @param credentials Ferry's ZooKeeper identity (null: no authentication, open ACLs) */
  AgentRegistration(String connect, String root, String name, AgentCapabilities capabilities, ZooKeeperCredentials credentials) {
    CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder().connectString(connect).sessionTimeoutMs(15_000)
        .connectionTimeoutMs(10_000).retryPolicy(new ExponentialBackoffRetry(200, 10, 5_000));
    if (credentials != null) {
      // Every node this client creates (the root and agents/ parents too, if it comes first)
      // gets Ferry's ACL; not world-readable, as the coordinator's nodes are not.
      ZooKeeperSecurity.apply(builder, credentials, false);
    }
    client = builder.build();
    client.start();
    this.root = root;
    path = root + "/agents/" + name;
    node = new PersistentNode(client, CreateMode.EPHEMERAL, false, path, capabilities.toByteArray());
    node.start();
  }

  String path() {
    return path;
  }

  /** Waits until the node exists (the first registration); false on timeout. */
  boolean awaitRegistered(long timeout, TimeUnit unit) throws InterruptedException {
    return node.waitForInitialCreate(timeout, unit);
  }

  /** Whether the node is in place now: connected, and created (cheap: no ZooKeeper call). */
  boolean registered() {
    return client.getZookeeperClient().isConnected() && node.getActualPath() != null;
  }

  /**
   * Ids of the migrations no coordinator has finished: the data (UTF-8 id) of the nodes
   * {@code <root>/active/<host>:<pid>} of the coordinator's layout, created with a migration's plan
   * and deleted with its terminal state. Blocks on ZooKeeper: not for an event thread.
   */
  Set<String> unfinishedMigrations() throws Exception {
    Set<String> ids = new HashSet<>();
    String active = root + "/active";
    if (client.checkExists().forPath(active) == null) {
      return ids;
    }
    for (String child : client.getChildren().forPath(active)) {
      try {
        ids.add(new String(client.getData().forPath(active + "/" + child), StandardCharsets.UTF_8));
      } catch (org.apache.zookeeper.KeeperException.NoNodeException finishedMeanwhile) {
        // the migration ended between the listing and the read
      }
    }
    return ids;
  }

  /**
   * The recorded phase of migration {@code id} ({@code <root>/migrations/<id>/state}, the
   * coordinator's MigrationStateRecord), empty if there is no such record. Blocks on ZooKeeper.
   */
  Optional<Phase> migrationPhase(String id) throws Exception {
    try {
      byte[] data = client.getData().forPath(root + "/migrations/" + id + "/state");
      return Optional.of(MigrationStateRecord.parseFrom(data).getPhase());
    } catch (org.apache.zookeeper.KeeperException.NoNodeException none) {
      return Optional.empty();
    }
  }

  void update(AgentCapabilities capabilities) {
    try {
      node.setData(capabilities.toByteArray());
    } catch (Exception e) {
      // Not yet created or disconnected: PersistentNode writes the latest data when it (re)creates.
    }
  }

  @Override
  public void close() {
    try {
      node.close();
    } catch (java.io.IOException e) {
      // the session ends next, which removes the ephemeral node anyway
    }
    client.close();
  }
}
