package dev.ferry.agent.freezer;

import java.util.List;

/**
 * Picks the freezer for a tree: the cgroup v2 freezer when the tree has its own cgroup; else
 * ptrace seize/interrupt where usable (invisible to the parent, undone by the kernel if the agent
 * dies); else SIGSTOP (observable by the parent: a CLD_STOPPED SIGCHLD, waitpid(WUNTRACED)).
 */
public final class Freezers {
  private Freezers() {}

  public static Freezer forTree(List<Integer> pids) {
    return CgroupFreezer.forTree(pids).<Freezer>map(f -> f).orElseGet(() ->
        PtraceFreezer.support(pids).available() ? new PtraceFreezer() : new SignalFreezer());
  }
}
