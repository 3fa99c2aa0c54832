package dev.ferry.coordinator.state;

import dev.ferry.coordinator.policy.ConvergenceLimits;

/** What a migration is to do; fixed when it starts. */
public record MigrationPlan(String id, int pid, String sourceHost, String destinationHost,
    ConvergenceLimits limits, boolean dryRun) {}
