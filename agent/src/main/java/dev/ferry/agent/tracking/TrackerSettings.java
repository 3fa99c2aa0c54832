package dev.ferry.agent.tracking;

import java.time.Duration;

/**
 * How a session tracks.
 *
 * @param choice which tracker: AUTO follows the soft-dirty probe
 * @param copyBufferBytes page buffer of the copy phase (one process_vm_readv fills it)
 * @param freezeTimeout how long a freeze may wait for every thread to stop before the round fails
 */
public record TrackerSettings(Choice choice, int copyBufferBytes, Duration freezeTimeout) {
  /** Which tracker to run. */
  public enum Choice { AUTO, SOFT_DIRTY, CONTENT_HASH }

  public static final int DEFAULT_COPY_BUFFER = 1 << 20;

  public static TrackerSettings defaults() {
    return new TrackerSettings(Choice.AUTO, DEFAULT_COPY_BUFFER, Duration.ofSeconds(2));
  }

  public TrackerSettings withChoice(Choice c) {
    return new TrackerSettings(c, copyBufferBytes, freezeTimeout);
  }

  public TrackerSettings withCopyBuffer(int bytes) {
    return new TrackerSettings(choice, bytes, freezeTimeout);
  }
}
