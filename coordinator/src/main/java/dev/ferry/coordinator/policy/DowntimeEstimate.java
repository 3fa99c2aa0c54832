package dev.ferry.coordinator.policy;

import java.time.Duration;

/**
 * What a freeze right now would cost: the predicted final delta over the measured bandwidth plus
 * the switch-over's fixed cost.
 *
 * <p>The final delta is the pages written since the last capture. Two bounds predict it: the last
 * dirty set (a hot set that saturates rewrites the same pages), and the dirty rate times the last
 * round's length (a spread-out writer dirties in proportion to time). The smaller one is used.
 */
public record DowntimeEstimate(long pendingPages, ByteSize pendingPayload, Bandwidth bandwidth,
    Duration transfer, Duration fixedCost) {

  public Duration expected() {
    return transfer.plus(fixedCost);
  }

  public static DowntimeEstimate of(ConvergenceHistory history, ConvergenceLimits limits) {
    RoundSample last = history.last();
    long pending = last.dirtyPages();
    if (history.rounds().size() >= 2) {
      double rate = dirtyRate(history);
      double seconds = last.roundTime().toNanos() / 1e9;
      pending = Math.min(pending, (long) Math.ceil(rate * seconds));
    }
    ByteSize payload = ByteSize.ofPages(Math.round(pending * last.nonZeroShare()));
    Bandwidth bw = measuredBandwidth(history).min(limits.bandwidthCap());
    return new DowntimeEstimate(pending, payload, bw, bw.timeFor(payload), limits.switchoverFixedCost());
  }

  /** Pages dirtied per second, as reported or else derived from the previous round's length. */
  static double dirtyRate(ConvergenceHistory h) {
    RoundSample last = h.last();
    if (last.dirtyPagesPerSecond() > 0) {
      return last.dirtyPagesPerSecond();
    }
    RoundSample prev = h.back(1);
    if (prev == null || prev.roundTime().isZero()) {
      return 0;
    }
    return last.dirtyPages() / (prev.roundTime().toNanos() / 1e9);
  }

  /** The last known throughput (a round with nothing to send measures nothing). */
  static Bandwidth measuredBandwidth(ConvergenceHistory h) {
    for (int i = h.rounds().size() - 1; i >= 0; i--) {
      Bandwidth b = h.rounds().get(i).bandwidth();
      if (b.isKnown() && !b.isUnlimited()) {
        return b;
      }
    }
    return Bandwidth.NONE;
  }
}
