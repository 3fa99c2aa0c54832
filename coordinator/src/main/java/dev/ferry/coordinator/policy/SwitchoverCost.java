package dev.ferry.coordinator.policy;

import java.time.Duration;

/**
 * The per-host estimate of a switch-over's fixed cost (CRIU dump of non-memory state, image copy,
 * restore), updated from each measured switch-over as an exponentially weighted mean so one odd
 * run does not swing it. The fixed part of a measured downtime is the downtime less the time the
 * final delta took on the wire.
 */
public final class SwitchoverCost {
  static final double WEIGHT_OF_NEW = 0.3;

  private SwitchoverCost() {}

  public static Duration updated(Duration current, Duration measuredDowntime, Duration deltaTransfer) {
    Duration fixed = measuredDowntime.minus(deltaTransfer);
    if (fixed.isNegative()) {
      fixed = Duration.ZERO;
    }
    long nanos = Math.round((1 - WEIGHT_OF_NEW) * current.toNanos() + WEIGHT_OF_NEW * fixed.toNanos());
    return Duration.ofNanos(nanos);
  }
}
