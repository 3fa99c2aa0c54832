package dev.ferry.agent.freezer;

import java.time.Duration;
import java.util.List;

/**
 * The {@link FrozenTree} every freezer hands out: the processes held, how long stopping them
 * took, and the freezer's own way to let them go, run at most once however often {@link #close()}
 * is called. The thaw action must not throw (it logs what it cannot undo). Confined to the thread
 * that froze the tree, like the round that holds it.
 */
final class HeldTree implements FrozenTree {
  private final List<Integer> pids;
  private final Duration stopLatency;
  private final Runnable thaw;
  private boolean closed;

  /** @param pids the processes held, root first (an exited descendant left out) */
  HeldTree(List<Integer> pids, Duration stopLatency, Runnable thaw) {
    this.pids = List.copyOf(pids);
    this.stopLatency = stopLatency;
    this.thaw = thaw;
  }

  @Override
  public List<Integer> pids() {
    return pids;
  }

  @Override
  public Duration stopLatency() {
    return stopLatency;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      thaw.run();
    }
  }
}
