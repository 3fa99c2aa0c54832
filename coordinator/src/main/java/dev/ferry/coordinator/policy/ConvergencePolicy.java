package dev.ferry.coordinator.policy;

import static dev.ferry.coordinator.policy.ChronoLimits.ms;

import dev.ferry.coordinator.policy.Decision.Kind;
import java.time.Duration;
import java.util.Locale;

/**
 * The pure convergence policy: after each pre-copy round, CONTINUE, THROTTLE, FREEZE or ABORT.
 * No clock, no I/O: time comes in as a value, so the same inputs always give the same decision.
 *
 * <p>Rules, in order:
 * <ol>
 *   <li>Expected downtime ({@link DowntimeEstimate}) within the limit: FREEZE, unless the last
 *       round still shrank the dirty set a lot ({@link PolicyTuning#settledShrink}) and the delta
 *       is not already negligible: then one more cheap round lowers the downtime further.
 *   <li>Caps (max rounds, max pre-copy time): ABORT if the operator chose abort on stall, else
 *       FREEZE with the longer downtime (the operator asked for the move).
 *   <li>Stall (the dirty set did not shrink meaningfully over the stall window, or pages are
 *       dirtied at least as fast as they are sent): per on-stall, THROTTLE (20 %, then +10 % per
 *       stalled round at the new level, at most 99 %), FREEZE or ABORT.
 *   <li>Otherwise CONTINUE.
 * </ol>
 */
public final class ConvergencePolicy {
  static final int FIRST_THROTTLE = 20;
  static final int THROTTLE_STEP = 10;
  static final int MAX_THROTTLE = 99;

  private final PolicyTuning tuning;

  public ConvergencePolicy(PolicyTuning tuning) {
    this.tuning = tuning;
  }

  public ConvergencePolicy() {
    this(PolicyTuning.DEFAULT);
  }

  /**
   * @param history the rounds so far, the last one just finished (not empty)
   * @param elapsed pre-copy time so far
   */
  public Decision decide(ConvergenceHistory history, ConvergenceLimits limits, Duration elapsed) {
    if (history.isEmpty()) {
      throw new IllegalArgumentException("no round to decide on");
    }
    RoundSample last = history.last();
    DowntimeEstimate est = DowntimeEstimate.of(history, limits);
    Duration expected = est.expected();
    Duration limit = limits.downtimeLimit();
    int throttle = history.throttlePercent();
    String vs = "expected downtime " + ms(expected) + (expected.compareTo(limit) <= 0 ? " <= " : " > ")
        + "limit " + ms(limit);

    boolean capped = last.round() >= limits.maxRounds() || elapsed.compareTo(limits.maxPrecopy()) >= 0;
    String cap = last.round() >= limits.maxRounds()
        ? "max rounds " + limits.maxRounds() + " reached"
        : "max pre-copy time " + limits.maxPrecopy().toSeconds() + " s reached";

    if (expected.compareTo(limit) <= 0 && last.round() >= 2) {
      double shrink = shrink(history, 1);
      boolean stillShrinking = shrink >= tuning.settledShrink() && est.pendingPages() > tuning.negligiblePages();
      if (stillShrinking && !capped) {
        return Decision.of(Kind.CONTINUE, throttle, expected,
            vs + "; dirty set still shrinking (" + pct(shrink) + "), one more round");
      }
      return Decision.of(Kind.FREEZE, throttle, expected, vs);
    }
    if (capped) {
      if (limits.onStall() == StallAction.ABORT) {
        return Decision.of(Kind.ABORT, throttle, expected, cap + ", " + vs + " (on-stall abort)");
      }
      return Decision.of(Kind.FREEZE, throttle, expected, cap + ", freezing anyway: " + vs);
    }
    String stall = stallReason(history, est, limits);
    if (stall != null) {
      switch (limits.onStall()) {
        case ABORT:
          return Decision.of(Kind.ABORT, throttle, expected, stall + ", " + vs + " (on-stall abort)");
        case FREEZE:
          return Decision.of(Kind.FREEZE, throttle, expected, stall + ", freezing anyway: " + vs);
        case THROTTLE:
        default:
          if (throttle < MAX_THROTTLE) {
            int next = throttle == 0 ? FIRST_THROTTLE : Math.min(MAX_THROTTLE, throttle + THROTTLE_STEP);
            return Decision.of(Kind.THROTTLE, next, expected, stall + ", " + vs + "; throttling " + next + " %");
          }
          return Decision.of(Kind.CONTINUE, throttle, expected,
              stall + " at throttle " + MAX_THROTTLE + " %, " + vs + "; continuing to the cap");
      }
    }
    if (last.round() == 1) {
      return Decision.of(Kind.CONTINUE, throttle, expected, "first full copy done, " + vs);
    }
    return Decision.of(Kind.CONTINUE, throttle, expected, vs);
  }

  /**
   * Null when converging, else why pre-copy counts as stalled: pages are dirtied at least as fast
   * as they are sent, or at the pace of the last round the dirty set would need more than the
   * stall window's rounds to reach the size that fits the limit, or it shrank by less than the
   * meaningful share. Throttled, each round at the new level is judged again (QEMU raises the
   * throttle every pass), so the window restarts after each throttle change.
   */
  private String stallReason(ConvergenceHistory h, DowntimeEstimate est, ConvergenceLimits limits) {
    RoundSample last = h.last();
    if (last.round() < 2 || h.roundsAtThrottle() < 1) {
      return null;
    }
    double rateBytes = DowntimeEstimate.dirtyRate(h) * ByteSize.PAGE * last.nonZeroShare();
    if (est.bandwidth().isKnown() && rateBytes >= est.bandwidth().bytesPerSecond()) {
      return String.format(Locale.ROOT, "dirty rate %.1f MiB/s >= bandwidth %s", rateBytes / (1 << 20),
          est.bandwidth());
    }
    // Throttling reacts every round; freezing early or aborting is final, so those look at the
    // whole stall window and only give up when the cap would come first.
    boolean throttle = limits.onStall() == StallAction.THROTTLE;
    int window = throttle ? 1 : limits.stallRounds();
    if (h.back(window) == null || h.back(window).round() < (throttle ? 1 : 2)) {
      return null;
    }
    double shrink = 1 - Math.pow(1 - shrink(h, window), 1.0 / window);
    String over = window == 1 ? "last round" : "a round over " + window + " rounds";
    if (shrink < tuning.meaningfulShrink()) {
      return "dirty set not shrinking (" + pct(shrink) + " " + over + ")";
    }
    int horizon = throttle ? limits.stallRounds() : limits.maxRounds() - last.round();
    long target = targetPages(est, limits);
    double rounds = Math.log((double) Math.max(1, target) / Math.max(1, last.dirtyPages())) / Math.log(1 - shrink);
    if (target < last.dirtyPages() && rounds > horizon) {
      return String.format(Locale.ROOT, "dirty set shrinking too slowly (%s %s, ~%.0f rounds to %s > %d)",
          pct(shrink), over, Math.ceil(rounds), ByteSize.ofPages(target), horizon);
    }
    return null;
  }

  /** The dirty set that would fit the downtime limit at the measured bandwidth. */
  private static long targetPages(DowntimeEstimate est, ConvergenceLimits limits) {
    Duration budget = limits.downtimeLimit().minus(limits.switchoverFixedCost());
    if (budget.isNegative() || !est.bandwidth().isKnown()) {
      return 0;
    }
    if (est.bandwidth().isUnlimited()) {
      return Long.MAX_VALUE;
    }
    return (long) (est.bandwidth().bytesPerSecond() * budget.toNanos() / 1e9 / ByteSize.PAGE);
  }

  /** Share by which the dirty set shrank over the last {@code back} rounds (negative: grew). */
  static double shrink(ConvergenceHistory h, int back) {
    RoundSample then = h.back(back);
    if (then == null || then.dirtyPages() == 0) {
      return 0;
    }
    return 1.0 - (double) h.last().dirtyPages() / then.dirtyPages();
  }

  private static String pct(double share) {
    return String.format(Locale.ROOT, "%+.0f %%", -share * 100);
  }
}
