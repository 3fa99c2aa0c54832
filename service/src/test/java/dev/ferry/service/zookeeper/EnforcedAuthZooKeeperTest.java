package dev.ferry.service.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;

/**
 * Ferry's embedded ZooKeeper with {@link ZooKeeperSecurity#embeddedServerProperties()}: a session
 * that has not authenticated with the digest scheme gets no answer at all, even to a read.
 */
class EnforcedAuthZooKeeperTest {

    @Test
    void unauthenticatedSessionsAreRefusedOutright() throws Exception {
        ZooKeeperCredentials credentials = ZooKeeperCredentials.of("ferry", "s3cret-for-test");
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(Duration.ofSeconds(30), ZooKeeperSecurity.embeddedServerProperties())) {
            // QuorumPeerConfig turns unknown keys into JVM-wide system properties; keep them out of other tests.
            System.clearProperty("zookeeper.enforce.auth.enabled");
            System.clearProperty("zookeeper.enforce.auth.schemes");
            try (CuratorFramework ferry = ZooKeeperSecurity.apply(CuratorFrameworkFactory.builder().connectString(zk.connectString())
                    .retryPolicy(new RetryOneTime(100)).connectionTimeoutMs(10_000).sessionTimeoutMs(10_000), credentials, true).build()) {
                ferry.start();
                ZooKeeperSecurity.ensureRoot(ferry, "/ferry", credentials, true);
                ferry.create().forPath("/ferry/state", "ok".getBytes(StandardCharsets.UTF_8));
                assertArrayEquals("ok".getBytes(StandardCharsets.UTF_8), ferry.getData().forPath("/ferry/state"));
            }
            try (CuratorFramework stranger = CuratorFrameworkFactory.builder().connectString(zk.connectString())
                    .retryPolicy(new RetryOneTime(100)).connectionTimeoutMs(3_000).sessionTimeoutMs(3_000).build()) {
                stranger.start();
                assertThrows(Exception.class, () -> stranger.getData().forPath("/ferry/state"));
            }
        }
    }
}
