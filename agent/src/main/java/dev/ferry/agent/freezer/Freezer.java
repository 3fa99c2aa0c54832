package dev.ferry.agent.freezer;

import dev.ferry.agent.tracking.TrackingException;
import java.time.Duration;
import java.util.List;

/**
 * Stops every thread of a process tree for a moment and undoes it. Used by each pre-copy round
 * (pagemap read + clear_refs under the freeze) and reusable by the switch-over (freeze, final
 * clear or CRIU dump).
 *
 * <p>Why a round freezes at all: the dirty set is read from pagemap and then the bits are cleared
 * with clear_refs. A write landing between those two steps would set bit 55 after the read and
 * be wiped by the clear: that page would never be copied again, silently corrupting the
 * destination. Stopping every thread makes read + clear atomic with respect to the process.
 */
public interface Freezer {

  /** What kind of freezer this is, for logs ("SIGSTOP", "cgroup v2 /sys/fs/cgroup/x"). */
  String describe();

  /**
   * Stops every thread of {@code pids}; returns once all are stopped. A process already stopped
   * before the call stays stopped after {@link FrozenTree#close()}. On any failure or interrupt
   * whatever was stopped is resumed before the exception propagates.
   *
   * @throws TrackingException PROCESS_EXITED when the first pid (the root) is gone, IO_ERROR
   *     naming the task when a thread does not stop within {@code timeout}
   */
  FrozenTree freeze(List<Integer> pids, Duration timeout) throws TrackingException, InterruptedException;
}
