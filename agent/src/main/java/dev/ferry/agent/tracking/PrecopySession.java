package dev.ferry.agent.tracking;

import dev.ferry.proto.TrackerKind;

/**
 * Tracks one process tree across pre-copy rounds. Round 1 captures every copyable page; later
 * rounds capture what was written since the previous capture. Areas that vanished are reported as
 * removed; new areas are captured whole.
 *
 * <p>Not thread-safe: one round at a time, driven by one thread. {@link #close()} never leaves the
 * process stopped.
 */
public interface PrecopySession extends AutoCloseable {

  /** Which tracker runs, and the one-line reason it was chosen. */
  TrackerKind kind();

  String reason();

  int rootPid();

  /** Captures the next round's dirty set. */
  CapturedRound capture() throws TrackingException, InterruptedException;

  @Override
  void close();
}
