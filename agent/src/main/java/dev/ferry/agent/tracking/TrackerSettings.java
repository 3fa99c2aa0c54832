package dev.ferry.agent.tracking;

import java.time.Duration;

/**
 * How a session tracks.
 *
 * @param choice which tracker: AUTO follows the soft-dirty probe
 * @param copyBufferBytes page buffer of the copy phase (one process_vm_readv fills it)
 * @param freezeTimeout how long a freeze may wait for every thread to stop before the round fails
 * @param pagemapThreads threads reading /proc/PID/pagemap inside the freeze (the session thread
 *     included): the freeze window is mostly that read, and readers of one process run in
 *     parallel in the kernel
 */
public record TrackerSettings(Choice choice, int copyBufferBytes, Duration freezeTimeout, int pagemapThreads) {
  /** Which tracker to run. */
  public enum Choice { AUTO, SOFT_DIRTY, CONTENT_HASH }

  public static final int DEFAULT_COPY_BUFFER = 1 << 20;

  /** Every core, at most 4 (beyond that the gain per thread is small for one process). */
  public static final int DEFAULT_PAGEMAP_THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

  public TrackerSettings {
    if (pagemapThreads < 1) {
      throw new IllegalArgumentException("pagemapThreads must be >= 1: " + pagemapThreads);
    }
  }

  /** With the default pagemap threads. */
  public TrackerSettings(Choice choice, int copyBufferBytes, Duration freezeTimeout) {
    this(choice, copyBufferBytes, freezeTimeout, DEFAULT_PAGEMAP_THREADS);
  }

  public static TrackerSettings defaults() {
    return new TrackerSettings(Choice.AUTO, DEFAULT_COPY_BUFFER, Duration.ofSeconds(2));
  }

  public TrackerSettings withChoice(Choice c) {
    return new TrackerSettings(c, copyBufferBytes, freezeTimeout, pagemapThreads);
  }

  public TrackerSettings withCopyBuffer(int bytes) {
    return new TrackerSettings(choice, bytes, freezeTimeout, pagemapThreads);
  }

  public TrackerSettings withPagemapThreads(int threads) {
    return new TrackerSettings(choice, copyBufferBytes, freezeTimeout, threads);
  }
}
