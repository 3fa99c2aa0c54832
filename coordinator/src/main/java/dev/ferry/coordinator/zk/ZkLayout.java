package dev.ferry.coordinator.zk;

/**
 * Ferry's znodes under a configurable root (default {@code /ferry}). Values are binary protobuf
 * unless noted; nothing here holds page data, and a round is one small event.
 *
 * <pre>
 * /ferry
 *   agents/&lt;host&gt;                 EPHEMERAL, AgentCapabilities; written by each agent, vanishes
 *                                  with its session
 *   leader/                        Curator LeaderLatch; participant id = the coordinator's address
 *   migrations/&lt;id&gt;/
 *     plan                         MigrationPlanRecord, written once
 *     state                        MigrationStateRecord; every change a compare-and-set on the
 *                                  znode version (a lost race is ABORTED, never an overwrite)
 *     events/&lt;seq, 10 digits&gt;     MigrationEvent journal: started, one per round (figures and
 *                                  decision), phase changes, finished; written in the same
 *                                  transaction as the state change that produced it, gap-free
 *   active/&lt;host&gt;:&lt;pid&gt;           the id of the unfinished migration of that pid; created with the
 *                                  plan (so a pid cannot be migrated twice at once), deleted with
 *                                  the terminal state
 *   estimates/&lt;host&gt;              switch-over fixed cost of a destination host, decimal
 *                                  milliseconds (text), updated from measured switch-overs
 * </pre>
 */
public record ZkLayout(String root) {
  public static final String DEFAULT_ROOT = "/ferry";

  public ZkLayout {
    if (!root.startsWith("/") || (root.length() > 1 && root.endsWith("/"))) {
      throw new IllegalArgumentException("ZooKeeper root must be an absolute path without a trailing '/': " + root);
    }
  }

  public String agents() {
    return root + "/agents";
  }

  public String agent(String host) {
    return agents() + "/" + host;
  }

  public String leader() {
    return root + "/leader";
  }

  public String migrations() {
    return root + "/migrations";
  }

  public String migration(String id) {
    return migrations() + "/" + id;
  }

  public String plan(String id) {
    return migration(id) + "/plan";
  }

  public String state(String id) {
    return migration(id) + "/state";
  }

  public String events(String id) {
    return migration(id) + "/events";
  }

  public String event(String id, long sequence) {
    return events(id) + "/" + String.format("%010d", sequence);
  }

  public String active() {
    return root + "/active";
  }

  public String activePid(String host, int pid) {
    return active() + "/" + host + ":" + pid;
  }

  public String estimates() {
    return root + "/estimates";
  }

  public String estimate(String host) {
    return estimates() + "/" + host;
  }
}
