package dev.ferry.coordinator.policy;

import java.time.Duration;

/** Printing and bounding of durations in the policy's reasons. */
final class ChronoLimits {
  /** Stands for "never" (no bandwidth measured): large, yet safe to add to. */
  static final Duration FOREVER = Duration.ofDays(365);

  private ChronoLimits() {}

  static String ms(Duration d) {
    if (d.compareTo(FOREVER) >= 0) {
      return "inf ms";
    }
    return Math.round(d.toNanos() / 1e6) + " ms";
  }
}
