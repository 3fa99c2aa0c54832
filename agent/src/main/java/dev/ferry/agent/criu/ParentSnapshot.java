package dev.ferry.agent.criu;

import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.tracking.AddressRange;
import java.time.Duration;
import java.util.List;

/**
 * What the destination holds when the switch-over begins, in the form a CRIU parent image dir
 * needs it.
 *
 * @param dumpUptime time since boot at which the parent is "dumped"; CRIU ignores a parent older
 *     than the process (its pid-reuse check) and then dumps everything, so this must be later than
 *     the process start
 * @param processes one entry per process of the tree
 */
public record ParentSnapshot(Duration dumpUptime, List<Process> processes) {
  public ParentSnapshot {
    processes = List.copyOf(processes);
  }

  /**
   * @param pid the pid the agent tracks (the outer pid when the tree has its own pid namespace)
   * @param imagePid the pid CRIU names its images after (the innermost NSpid, 1 for a namespace
   *     init)
   * @param runs page runs the destination holds, sorted by address, non-overlapping
   */
  public record Process(int pid, int imagePid, List<AddressRange> runs) {
    public Process {
      runs = List.copyOf(runs);
      long previousEnd = 0;
      for (AddressRange r : runs) {
        if (r.start() % PageSize.BYTES != 0 || r.end() % PageSize.BYTES != 0) {
          throw new IllegalArgumentException("run not page aligned: " + r);
        }
        if (Long.compareUnsigned(r.start(), previousEnd) < 0) {
          throw new IllegalArgumentException("runs not sorted or overlapping at " + r);
        }
        previousEnd = r.end();
      }
    }

    public long pages() {
      return runs.stream().mapToLong(r -> r.bytes() / PageSize.BYTES).sum();
    }
  }
}
