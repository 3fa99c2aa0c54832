package dev.ferry.coordinator.policy.sim;

import dev.ferry.coordinator.policy.ConvergenceHistory;
import dev.ferry.coordinator.policy.Decision;
import java.time.Duration;

/** A rule that decides, after each simulated round, whether to stop pre-copy. */
public interface StopRule {
  String name();

  /** CONTINUE, THROTTLE(p), FREEZE or ABORT, given the rounds so far and the pre-copy time. */
  Decision after(ConvergenceHistory history, Duration elapsed);
}
