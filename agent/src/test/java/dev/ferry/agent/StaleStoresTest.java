package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.Await;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restarted agent, once registered in a real (embedded) ZooKeeper, removes the page stores an
 * earlier run left for migrations no coordinator lists as unfinished, and keeps the others.
 */
class StaleStoresTest {

  @Test
  void storesOfFinishedMigrationsGoThoseOfUnfinishedOnesStay(@TempDir Path dir) throws Exception {
    // what an earlier run left: two stores on disk
    try (PageStores earlier = new PageStores(dir, new PageHashing())) {
      earlier.openOrCreate("m-unfinished");
      earlier.openOrCreate("m-finished");
    }
    Path stores = dir.resolve("stores");
    assertTrue(Files.isDirectory(stores.resolve("m-finished")) && Files.isDirectory(stores.resolve("m-unfinished")));
    try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
        CuratorFramework client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100))) {
      client.start();
      // the coordinator's record of the migration still in flight (host1's pid 4242)
      client.create().creatingParentsIfNeeded().forPath("/ferry/active/host1:4242",
          "m-unfinished".getBytes(StandardCharsets.UTF_8));
      try (Agent agent = Agent.start(Agent.Config.of("host2", new InetSocketAddress("127.0.0.1", 0), dir)
          .withZookeeper(zk.connectString(), "/ferry"))) {
        // the cleanup runs on the agent's worker thread once registered: no event to wait on
        Await.until("the finished migration's store removed", () -> !Files.exists(stores.resolve("m-finished")),
            Duration.ofSeconds(60));
        assertTrue(Files.isDirectory(stores.resolve("m-unfinished")), "the unfinished migration's store stays");
      }
    }
  }
}
