package dev.ferry.coordinator.policy.sim;

import java.time.Duration;

/**
 * The outcome of one simulated migration.
 *
 * @param downtime freeze to running on the destination (zero when aborted)
 * @param limitMet the process moved and the downtime stayed within the limit
 */
public record SimResult(String workload, String rule, int rounds, long totalBytes, Duration totalTime,
    Duration downtime, boolean aborted, boolean limitMet, int finalThrottle) {}
