package dev.ferry.coordinator.service;

import java.time.Duration;

/** Base deadlines of the coordinator's agent calls (scaled by {@link GrpcEndpoints#deadline}). */
final class Deadlines {
  static final Duration QUICK = Duration.ofSeconds(10);          // Describe, Inspect, Throttle, Resume, Kill, Discard
  static final Duration HEALTH = Duration.ofSeconds(3);          // Describe for ListAgents health
  static final Duration START_TRACKING = Duration.ofSeconds(60); // first pagemap read, stream connect
  static final Duration ROUND = Duration.ofMinutes(10);          // a first round of many GiB
  static final Duration CHECKPOINT = Duration.ofMinutes(5);      // CRIU dump + image transfer
  static final Duration RESTORE = Duration.ofMinutes(5);

  private Deadlines() {}
}
