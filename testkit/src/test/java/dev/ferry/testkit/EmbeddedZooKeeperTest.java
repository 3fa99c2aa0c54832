package dev.ferry.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

class EmbeddedZooKeeperTest {

    @Test
    void servesOnLoopbackAndStoresData() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
            assertTrue(zk.connectString().startsWith("127.0.0.1:"), zk.connectString());
            CountDownLatch connected = new CountDownLatch(1);
            ZooKeeper client = new ZooKeeper(zk.connectString(), 10_000, e -> {
                if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                    connected.countDown();
                }
            });
            try {
                assertTrue(connected.await(LabEnvironment.scaled(java.time.Duration.ofSeconds(20)).toMillis(), TimeUnit.MILLISECONDS));
                byte[] data = "host1".getBytes(StandardCharsets.UTF_8);
                client.create("/ferry", data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertArrayEquals(data, client.getData("/ferry", false, null));
            } finally {
                client.close();
            }
        }
    }

    @Test
    void twoServersGetDifferentPorts() {
        try (EmbeddedZooKeeper a = EmbeddedZooKeeper.start(); EmbeddedZooKeeper b = EmbeddedZooKeeper.start()) {
            assertTrue(a.port() != b.port());
        }
    }
}
