package dev.ferry.agent.freezer;

import java.util.List;

/** Picks the freezer for a tree: the cgroup v2 freezer when the tree has its own cgroup, else SIGSTOP. */
public final class Freezers {
  private Freezers() {}

  public static Freezer forTree(List<Integer> pids) {
    return CgroupFreezer.forTree(pids).<Freezer>map(f -> f).orElseGet(SignalFreezer::new);
  }
}
