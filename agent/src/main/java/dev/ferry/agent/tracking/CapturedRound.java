package dev.ferry.agent.tracking;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A round whose dirty set has been captured (for soft-dirty: freeze, pagemap read, clear_refs,
 * thaw done) and whose pages are ready to be copied while the process runs.
 *
 * <p>Confined to the thread that captured it.
 */
public interface CapturedRound {
  int round();

  /** When the capture's freeze began. */
  Instant capturedAt();

  /** How long the process tree was stopped (zero for trackers that do not stop it). */
  Duration freezeWindow();

  /** Every process of the tree, with its areas and removed areas; known before any page moves. */
  List<ProcessLayout> processes();

  /**
   * Reads the round's dirty pages with process_vm_readv and hands them to the sink, zero pages
   * as flags. May be called once.
   */
  CopyFigures copy(PageSink sink) throws TrackingException, InterruptedException;
}
