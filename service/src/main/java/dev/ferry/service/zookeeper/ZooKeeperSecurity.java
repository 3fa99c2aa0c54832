package dev.ferry.service.zookeeper;

import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * Ferry's ZooKeeper access control, for both the embedded server and an external ensemble:
 * every Ferry process authenticates with the shared digest identity ({@link ZooKeeperCredentials})
 * and creates its znodes with {@link FerryAclProvider}'s ACL, so only Ferry's coordinators and
 * agents can write under the root. Use at the Curator builder:
 * <pre>
 *   CuratorFramework zk = ZooKeeperSecurity.apply(CuratorFrameworkFactory.builder().connectString(..)..., credentials, false).build();
 *   zk.start(); ... ZooKeeperSecurity.ensureRoot(zk, "/ferry");
 * </pre>
 */
public final class ZooKeeperSecurity {

    private ZooKeeperSecurity() {
    }

    /** Adds the digest authentication (re-sent on every reconnect) and Ferry's ACL provider. */
    public static CuratorFrameworkFactory.Builder apply(CuratorFrameworkFactory.Builder builder, ZooKeeperCredentials credentials,
                                                        boolean worldReadable) {
        return builder.authorization("digest", credentials.authBytes())
                .aclProvider(new FerryAclProvider(credentials.aclId(), worldReadable));
    }

    /**
     * Creates {@code root} with Ferry's ACL, or checks that an existing root carries it. Refuses
     * (IllegalStateException naming the ACL found) a root that others may write: someone could
     * have created it first to read or forge Ferry's state. Blocking: call at start, not from a
     * ZooKeeper event thread.
     */
    public static void ensureRoot(CuratorFramework client, String root, ZooKeeperCredentials credentials, boolean worldReadable)
            throws Exception {
        List<ACL> expected = new FerryAclProvider(credentials.aclId(), worldReadable).acl();
        try {
            client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).withACL(expected).forPath(root);
            return;
        } catch (KeeperException.NodeExistsException exists) {
            // fall through to verify
        }
        List<ACL> found = client.getACL().storingStatIn(new Stat()).forPath(root);
        for (ACL acl : found) {
            boolean ours = acl.getId().equals(credentials.aclId());
            if (!ours && (acl.getPerms() & ~ZooDefs.Perms.READ) != 0) {
                throw new IllegalStateException("ZooKeeper node " + root + " has ACL " + found + ", which lets "
                        + acl.getId() + " change Ferry's state; remove that entry (setAcl) or choose another root");
            }
        }
        if (!new HashSet<>(found).containsAll(expected.stream().filter(a -> a.getId().equals(credentials.aclId())).toList())) {
            throw new IllegalStateException("ZooKeeper node " + root + " has ACL " + found + ", which does not give Ferry's identity "
                    + credentials.user() + " all permissions (wrong secret file, or created by another cluster?)");
        }
    }

    /**
     * Server properties for Ferry's embedded ZooKeeper (merge into its configuration): sessions
     * must authenticate with the digest scheme before any request, so an unauthenticated client
     * cannot even read. Ferry's ACLs still apply; they are what protects an external ensemble.
     */
    public static Properties embeddedServerProperties() {
        Properties p = new Properties();
        p.setProperty("enforce.auth.enabled", "true");
        p.setProperty("enforce.auth.schemes", "digest");
        return p;
    }
}
