package dev.ferry.service.zookeeper;

import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;

/**
 * The ACL of every znode Ferry creates: all permissions for Ferry's digest identity, and
 * optionally READ for anyone (so an unauthenticated zkCli can look but not touch). Curator asks
 * this for every node it creates, parents included.
 */
public final class FerryAclProvider implements ACLProvider {

    private final List<ACL> acl;

    public FerryAclProvider(Id ferry, boolean worldReadable) {
        List<ACL> list = new ArrayList<>();
        list.add(new ACL(ZooDefs.Perms.ALL, ferry));
        if (worldReadable) {
            list.add(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
        }
        this.acl = List.copyOf(list);
    }

    /**
     * A fresh mutable copy each time: ZooKeeper's client asks {@code acl.contains(null)}, which
     * an immutable {@code List.of} answers with a NullPointerException.
     */
    public List<ACL> acl() {
        return new ArrayList<>(acl);
    }

    @Override
    public List<ACL> getDefaultAcl() {
        return acl();
    }

    @Override
    public List<ACL> getAclForPath(String path) {
        return acl();
    }
}
