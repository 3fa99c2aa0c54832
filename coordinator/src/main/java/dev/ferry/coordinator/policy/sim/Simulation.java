package dev.ferry.coordinator.policy.sim;

import dev.ferry.coordinator.policy.ByteSize;
import dev.ferry.coordinator.policy.ConvergenceHistory;
import dev.ferry.coordinator.policy.Decision;
import dev.ferry.coordinator.policy.RoundSample;
import java.time.Duration;

/**
 * Runs pre-copy rounds of a {@link Workload} over a {@link SimLink} under a {@link StopRule}.
 *
 * <p>Round k captures the pages written since capture k-1 (round 1: every page), then copies them
 * while the process runs on; a round lasts the overhead plus the copy. When the rule stops after
 * round k, the final delta is what was written during round k, sent while the process is frozen:
 * downtime = delta / bandwidth + the fixed switch-over cost. Every rule sees the same figures.
 */
public final class Simulation {
  static final int HARD_ROUND_CAP = 1000;

  private Simulation() {}

  public static SimResult run(Workload w, SimLink link, StopRule rule, Duration downtimeLimit) {
    ConvergenceHistory history = ConvergenceHistory.EMPTY;
    double now = 0;
    long totalBytes = 0;
    long dirty = w.totalPages(0);
    double previousRound = 0;
    double overhead = link.roundOverhead().toNanos() / 1e9;
    for (int round = 1; round <= HARD_ROUND_CAP; round++) {
      long bytes = dirty * ByteSize.PAGE;
      double copy = link.seconds(bytes);
      double length = overhead + copy;
      double rate = round == 1 || previousRound == 0 ? 0 : dirty / previousRound;
      RoundSample sample = new RoundSample(round, dirty, 0, new ByteSize(bytes), Duration.ofMillis(1),
          nanos(copy), nanos(length), link.bandwidth(), rate, w.totalPages(now));
      history = history.after(sample);
      totalBytes += bytes;
      double throttle = history.throttlePercent() / 100.0;
      long next = w.dirtied(now, length * (1 - throttle));
      now += length;
      previousRound = length;
      Decision d = rule.after(history, nanos(now));
      switch (d.kind()) {
        case THROTTLE:
          history = history.withThrottle(d.throttlePercent());
          break;
        case ABORT:
          return new SimResult(w.name(), rule.name(), round, totalBytes, nanos(now), Duration.ZERO, true,
              false, history.throttlePercent());
        case FREEZE: {
          long finalBytes = next * ByteSize.PAGE;
          Duration downtime = nanos(link.seconds(finalBytes)).plus(link.switchoverFixedCost());
          return new SimResult(w.name(), rule.name(), round, totalBytes + finalBytes,
              nanos(now).plus(downtime), downtime, false, downtime.compareTo(downtimeLimit) <= 0,
              history.throttlePercent());
        }
        case CONTINUE:
        default:
          break;
      }
      dirty = next;
    }
    throw new IllegalStateException(rule.name() + " never stopped on " + w.name());
  }

  static Duration nanos(double seconds) {
    return Duration.ofNanos(Math.round(seconds * 1e9));
  }
}
