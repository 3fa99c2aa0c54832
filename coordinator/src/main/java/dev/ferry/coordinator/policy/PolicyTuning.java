package dev.ferry.coordinator.policy;

/**
 * Constants of the convergence policy that are not operator limits; chosen with the simulator
 * ({@code bin/ferry-bench policy}).
 *
 * @param meaningfulShrink the dirty set must shrink by at least this share over the stall window,
 *     else pre-copy counts as stalled
 * @param settledShrink within the limit, one more round is run while the last round still shrank
 *     the dirty set by at least this share: each such round lowers the downtime for few bytes
 * @param negligiblePages a predicted final delta this small is not worth another round
 */
public record PolicyTuning(double meaningfulShrink, double settledShrink, long negligiblePages) {
  public static final PolicyTuning DEFAULT = new PolicyTuning(0.10, 0.05, 64);
}
