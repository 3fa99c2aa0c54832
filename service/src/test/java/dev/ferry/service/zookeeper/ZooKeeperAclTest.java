package dev.ferry.service.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real embedded ZooKeeper on 127.0.0.1: Ferry's processes (digest identity from a secret file)
 * create the layout with Ferry's ACL; a client without credentials, or with a wrong password,
 * cannot create, change, delete or re-ACL any of it.
 */
class ZooKeeperAclTest {

    @TempDir
    static Path dir;
    static EmbeddedZooKeeper zk;
    static ZooKeeperCredentials credentials;
    static CuratorFramework ferry;

    @BeforeAll
    static void start() throws Exception {
        zk = EmbeddedZooKeeper.start();
        credentials = ZooKeeperCredentials.createSecretFile(dir.resolve("zk.secret"), ZooKeeperCredentials.DEFAULT_USER);
        ferry = ferryClient(ZooKeeperCredentials.fromSecretFile(dir.resolve("zk.secret")), true);
        ZooKeeperSecurity.ensureRoot(ferry, "/ferry", credentials, true);
        ferry.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath("/ferry/agents/host1", "caps".getBytes(StandardCharsets.UTF_8));
        ferry.create().creatingParentsIfNeeded().forPath("/ferry/migrations/m1", "PRECOPY".getBytes(StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        ferry.close();
        zk.close();
    }

    static CuratorFramework ferryClient(ZooKeeperCredentials c, boolean worldReadable) throws Exception {
        CuratorFramework client = ZooKeeperSecurity.apply(CuratorFrameworkFactory.builder().connectString(zk.connectString())
                .retryPolicy(new RetryOneTime(100)).connectionTimeoutMs(10_000).sessionTimeoutMs(10_000), c, worldReadable).build();
        client.start();
        assertTrue(client.blockUntilConnected(20, java.util.concurrent.TimeUnit.SECONDS));
        return client;
    }

    static CuratorFramework plainClient() throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(zk.connectString())
                .retryPolicy(new RetryOneTime(100)).connectionTimeoutMs(10_000).sessionTimeoutMs(10_000).build();
        client.start();
        assertTrue(client.blockUntilConnected(20, java.util.concurrent.TimeUnit.SECONDS));
        return client;
    }

    @Test
    void secretFileIsPrivate() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("zk.secret"))));
        assertTrue(!credentials.toString().contains(new String(credentials.authBytes(), StandardCharsets.UTF_8).split(":")[1]));
    }

    @Test
    void everyFerryNodeCarriesFerrysAcl() throws Exception {
        List<ACL> expected = List.of(new ACL(ZooDefs.Perms.ALL, credentials.aclId()), new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
        for (String path : List.of("/ferry", "/ferry/agents", "/ferry/agents/host1", "/ferry/migrations", "/ferry/migrations/m1")) {
            assertEquals(expected, ferry.getACL().forPath(path), path);
        }
    }

    @Test
    void anUnauthenticatedClientCanReadButNotTouch() throws Exception {
        try (CuratorFramework stranger = plainClient()) {
            assertArrayEquals("PRECOPY".getBytes(StandardCharsets.UTF_8), stranger.getData().forPath("/ferry/migrations/m1"), "world-readable here");
            assertRefused(stranger);
        }
        assertArrayEquals("PRECOPY".getBytes(StandardCharsets.UTF_8), ferry.getData().forPath("/ferry/migrations/m1"), "untouched");
    }

    @Test
    void aWrongPasswordIsNoBetter() throws Exception {
        try (CuratorFramework impostor = ferryClient(ZooKeeperCredentials.of(ZooKeeperCredentials.DEFAULT_USER, "guess"), true)) {
            assertRefused(impostor);
        }
    }

    private static void assertRefused(CuratorFramework c) {
        assertThrows(KeeperException.NoAuthException.class, () -> c.setData().forPath("/ferry/migrations/m1", "COMMITTED".getBytes(StandardCharsets.UTF_8)));
        assertThrows(KeeperException.NoAuthException.class, () -> c.setData().forPath("/ferry/agents/host1", "forged".getBytes(StandardCharsets.UTF_8)));
        assertThrows(KeeperException.NoAuthException.class, () -> c.create().forPath("/ferry/migrations/m2"));
        assertThrows(KeeperException.NoAuthException.class, () -> c.create().withMode(CreateMode.EPHEMERAL).forPath("/ferry/agents/evil"));
        assertThrows(KeeperException.NoAuthException.class, () -> c.delete().forPath("/ferry/agents/host1"));
        assertThrows(KeeperException.NoAuthException.class, () -> c.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath("/ferry"));
        assertThrows(KeeperException.NoAuthException.class, () -> c.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath("/ferry/migrations/m1"));
    }

    @Test
    void withoutWorldReadNobodyElseCanEvenRead() throws Exception {
        try (CuratorFramework privateFerry = ferryClient(credentials, false)) {
            ZooKeeperSecurity.ensureRoot(privateFerry, "/private-ferry", credentials, false);
            privateFerry.create().forPath("/private-ferry/state", "secret".getBytes(StandardCharsets.UTF_8));
            try (CuratorFramework stranger = plainClient()) {
                assertThrows(KeeperException.NoAuthException.class, () -> stranger.getData().forPath("/private-ferry/state"));
                assertThrows(KeeperException.NoAuthException.class, () -> stranger.getChildren().forPath("/private-ferry"));
            }
        }
    }

    @Test
    void aRootSomeoneElseCreatedIsRefused() throws Exception {
        try (CuratorFramework stranger = plainClient()) {
            stranger.create().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath("/squatted");
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ZooKeeperSecurity.ensureRoot(ferry, "/squatted", credentials, true));
        assertTrue(e.getMessage().contains("anyone") && e.getMessage().contains("change Ferry's state"), e.getMessage());
    }
}
