package dev.ferry.service.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded server, both ways: throwaway (tests, demo) and persistent (the coordinator's one-host mode). */
class EmbeddedZooKeeperTest {
    private static final byte[] DATA = "host1".getBytes(StandardCharsets.UTF_8);

    private static ZooKeeper connect(EmbeddedZooKeeper zk) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper client = new ZooKeeper(zk.connectString(), 10_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(60, TimeUnit.SECONDS)) {
            client.close();
            throw new AssertionError("no session with " + zk);
        }
        return client;
    }

    @Test
    void servesOnLoopbackAndStoresData() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
            assertTrue(zk.connectString().startsWith("127.0.0.1:"), zk.connectString());
            ZooKeeper client = connect(zk);
            try {
                client.create("/ferry", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertArrayEquals(DATA, client.getData("/ferry", false, null));
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

    /** The coordinator's one-host mode: a restart on the same port and directory keeps the data. */
    @Test
    void aPersistentServerKeepsItsDataAcrossARestart(@TempDir Path dir) throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.persistent(dir.resolve("zk"), EmbeddedZooKeeper.freePort(), new Properties())) {
            zk.serve(Duration.ofSeconds(60));
            ZooKeeper client = connect(zk);
            try {
                client.create("/ferry", DATA, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } finally {
                client.close();
            }
            zk.stop();
            zk.serve(Duration.ofSeconds(60));
            client = connect(zk);
            try {
                assertArrayEquals(DATA, client.getData("/ferry", false, null));
            } finally {
                client.close();
            }
        }
        try (var kept = Files.list(dir.resolve("zk"))) {
            assertFalse(kept.findAny().isEmpty(), "close keeps a persistent server's data");
        }
    }
}
