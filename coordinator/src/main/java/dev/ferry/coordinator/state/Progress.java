package dev.ferry.coordinator.state;

import dev.ferry.coordinator.policy.ConvergenceHistory;
import dev.ferry.coordinator.policy.Decision;
import dev.ferry.proto.TrackerKind;
import java.time.Duration;

/**
 * Pre-copy so far, carried through the phases up to the commit so the outcome can be told.
 *
 * @param lastDecision null before the first round
 */
public record Progress(TrackerKind tracker, ConvergenceHistory history, Decision lastDecision) {
  public static final Progress NONE = new Progress(TrackerKind.TRACKER_UNSPECIFIED, ConvergenceHistory.EMPTY, null);

  public int round() {
    return history.lastRound();
  }

  Duration predictedDowntime() {
    return lastDecision == null ? Duration.ZERO : lastDecision.expectedDowntime();
  }
}
