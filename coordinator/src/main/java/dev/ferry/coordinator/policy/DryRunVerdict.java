package dev.ferry.coordinator.policy;

import java.time.Duration;

/**
 * What a dry run concludes from its last decision: the downtime a switch-over would have cost and
 * whether pre-copy would have converged within the limit.
 */
public record DryRunVerdict(Duration predictedDowntime, boolean wouldConverge, String reason) {

  public static DryRunVerdict from(Decision last, ConvergenceLimits limits) {
    boolean converges = last.kind() == Decision.Kind.FREEZE
        && last.expectedDowntime().compareTo(limits.downtimeLimit()) <= 0;
    return new DryRunVerdict(last.expectedDowntime(), converges, last.reason());
  }
}
