package dev.ferry.agent.freezer;

import java.time.Duration;
import java.util.List;

/**
 * A process tree held stopped. {@link #close()} resumes it (idempotent, never throws): use
 * try-with-resources so exceptions and interrupts also resume the process.
 */
public interface FrozenTree extends AutoCloseable {
  /** The processes that were stopped (an exited descendant is left out). */
  List<Integer> pids();

  /** Time from the freeze request until the last thread was seen stopped. */
  Duration stopLatency();

  @Override
  void close();
}
