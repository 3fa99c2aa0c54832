package dev.ferry.coordinator.policy.sim;

import dev.ferry.coordinator.policy.ByteSize;
import dev.ferry.coordinator.policy.ConvergenceHistory;
import dev.ferry.coordinator.policy.ConvergenceLimits;
import dev.ferry.coordinator.policy.ConvergencePolicy;
import dev.ferry.coordinator.policy.Decision;
import dev.ferry.coordinator.policy.Decision.Kind;
import dev.ferry.coordinator.policy.RoundSample;
import java.time.Duration;

/**
 * Ferry's policy and the stop rules of the anchors (as their documentation and source describe
 * them), all as {@link StopRule}s over the same round figures.
 */
public final class AnchorRules {
  private AnchorRules() {}

  public static StopRule ferry(ConvergenceLimits limits) {
    ConvergencePolicy policy = new ConvergencePolicy();
    return rule("ferry", (h, elapsed) -> policy.decide(h, limits, elapsed));
  }

  /** P.Haul: stop when <= 64 pages were written, or they grew > 10 % over the previous round, or after 8. */
  public static StopRule phaul() {
    return rule("p.haul", (h, elapsed) -> {
      RoundSample last = h.last();
      RoundSample prev = h.back(1);
      if (last.dirtyPages() <= 64) {
        return stop("<= 64 pages written");
      }
      if (prev != null && last.round() > 2 && last.dirtyPages() > prev.dirtyPages() * 1.10) {
        return stop("written pages grew > 10 %");
      }
      if (last.round() >= 8) {
        return stop("8 iterations");
      }
      return go();
    });
  }

  /** LXD: stop when > 70 % of the pages were unchanged since the last dump, or at its iteration cap (10). */
  public static StopRule lxd() {
    return rule("lxd", (h, elapsed) -> {
      RoundSample last = h.last();
      if (last.round() >= 2 && last.dirtyPages() < 0.30 * last.totalPages()) {
        return stop("> 70 % unchanged");
      }
      if (last.round() >= 10) {
        return stop("iteration cap");
      }
      return go();
    });
  }

  /**
   * QEMU: stop when pending <= bandwidth x downtime limit (pending: the dirty set of the last sync;
   * QEMU leaves the fixed switch-over cost out). Auto-converge: once the bytes dirtied in a period
   * exceed 50 % of the bytes sent in it for the second time, throttle 20 %, then +10 % each such
   * period, at most 99 %. No round cap of its own; the simulator caps it at 30.
   */
  public static StopRule qemu(Duration downtimeLimit) {
    int[] highPeriods = {0};
    return rule("qemu", (h, elapsed) -> {
      RoundSample last = h.last();
      double allowed = last.bandwidth().bytesPerSecond() * downtimeLimit.toNanos() / 1e9;
      if (last.round() >= 2 && last.dirtyPages() * (double) ByteSize.PAGE <= allowed) {
        return stop("pending <= bandwidth x limit");
      }
      if (last.round() >= 30) {
        return stop("simulator cap");
      }
      RoundSample prev = h.back(1);
      if (prev != null && last.dirtyPages() * ByteSize.PAGE > 0.5 * prev.bytesSent().bytes()) {
        highPeriods[0]++;
        if (highPeriods[0] >= 2) {
          int p = h.throttlePercent() == 0 ? 20 : Math.min(99, h.throttlePercent() + 10);
          if (p != h.throttlePercent()) {
            return new Decision(Kind.THROTTLE, p, "auto-converge", Duration.ZERO);
          }
        }
      }
      return go();
    });
  }

  interface Body {
    Decision apply(ConvergenceHistory h, Duration elapsed);
  }

  private static StopRule rule(String name, Body body) {
    return new StopRule() {
      public String name() {
        return name;
      }

      public Decision after(ConvergenceHistory history, Duration elapsed) {
        return body.apply(history, elapsed);
      }
    };
  }

  private static Decision stop(String why) {
    return new Decision(Kind.FREEZE, 0, why, Duration.ZERO);
  }

  private static Decision go() {
    return new Decision(Kind.CONTINUE, 0, "", Duration.ZERO);
  }
}
