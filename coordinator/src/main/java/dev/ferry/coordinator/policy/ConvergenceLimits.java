package dev.ferry.coordinator.policy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The operator's limits for one migration, defaults filled in. {@link #problems()} lists every
 * value out of range in words an operator can act on; an empty list means the limits are usable.
 *
 * @param downtimeLimit longest acceptable freeze (default 300 ms, as QEMU's downtime-limit)
 * @param maxRounds pre-copy rounds before the cap applies (default 30)
 * @param maxPrecopy pre-copy time before the cap applies (default 10 min)
 * @param bandwidthCap the link budget for the page stream ({@link Bandwidth#UNLIMITED} = none)
 * @param onStall what to do when pre-copy stops converging
 * @param stallRounds rounds without meaningful shrinking that count as a stall (default 3)
 * @param switchoverFixedCost CRIU dump + image copy + restore of a small delta (per-host estimate)
 */
public record ConvergenceLimits(
    Duration downtimeLimit,
    int maxRounds,
    Duration maxPrecopy,
    Bandwidth bandwidthCap,
    StallAction onStall,
    int stallRounds,
    Duration switchoverFixedCost) {

  public static final Duration DEFAULT_DOWNTIME_LIMIT = Duration.ofMillis(300);
  public static final int DEFAULT_MAX_ROUNDS = 30;
  public static final Duration DEFAULT_MAX_PRECOPY = Duration.ofMinutes(10);
  public static final int DEFAULT_STALL_ROUNDS = 3;
  /** Used until a host has a measured switch-over. */
  public static final Duration DEFAULT_SWITCHOVER_COST = Duration.ofMillis(100);

  static final Duration MIN_DOWNTIME = Duration.ofMillis(1);
  static final Duration MAX_DOWNTIME = Duration.ofMinutes(10);
  static final int MAX_ROUNDS_CEILING = 1000;
  static final Duration MAX_PRECOPY_CEILING = Duration.ofHours(24);
  static final int MAX_STALL_ROUNDS = 100;
  static final Bandwidth MIN_BANDWIDTH_CAP = new Bandwidth(1 << 20);

  public static ConvergenceLimits defaults() {
    return new ConvergenceLimits(DEFAULT_DOWNTIME_LIMIT, DEFAULT_MAX_ROUNDS, DEFAULT_MAX_PRECOPY,
        Bandwidth.UNLIMITED, StallAction.THROTTLE, DEFAULT_STALL_ROUNDS, DEFAULT_SWITCHOVER_COST);
  }

  public ConvergenceLimits withDowntimeLimit(Duration d) {
    return new ConvergenceLimits(d, maxRounds, maxPrecopy, bandwidthCap, onStall, stallRounds, switchoverFixedCost);
  }

  public ConvergenceLimits withMaxRounds(int n) {
    return new ConvergenceLimits(downtimeLimit, n, maxPrecopy, bandwidthCap, onStall, stallRounds, switchoverFixedCost);
  }

  public ConvergenceLimits withMaxPrecopy(Duration d) {
    return new ConvergenceLimits(downtimeLimit, maxRounds, d, bandwidthCap, onStall, stallRounds, switchoverFixedCost);
  }

  public ConvergenceLimits withBandwidthCap(Bandwidth b) {
    return new ConvergenceLimits(downtimeLimit, maxRounds, maxPrecopy, b, onStall, stallRounds, switchoverFixedCost);
  }

  public ConvergenceLimits withOnStall(StallAction a) {
    return new ConvergenceLimits(downtimeLimit, maxRounds, maxPrecopy, bandwidthCap, a, stallRounds, switchoverFixedCost);
  }

  public ConvergenceLimits withStallRounds(int n) {
    return new ConvergenceLimits(downtimeLimit, maxRounds, maxPrecopy, bandwidthCap, onStall, n, switchoverFixedCost);
  }

  public ConvergenceLimits withSwitchoverFixedCost(Duration d) {
    return new ConvergenceLimits(downtimeLimit, maxRounds, maxPrecopy, bandwidthCap, onStall, stallRounds, d);
  }

  /** Every value out of range, one sentence each; empty when the limits are usable. */
  public List<String> problems() {
    List<String> out = new ArrayList<>();
    if (downtimeLimit.compareTo(MIN_DOWNTIME) < 0 || downtimeLimit.compareTo(MAX_DOWNTIME) > 0) {
      out.add("downtime limit " + downtimeLimit.toMillis() + " ms is out of range [1 ms, 10 min]");
    }
    if (maxRounds < 1 || maxRounds > MAX_ROUNDS_CEILING) {
      out.add("max rounds " + maxRounds + " is out of range [1, " + MAX_ROUNDS_CEILING + "]");
    }
    if (maxPrecopy.compareTo(Duration.ofSeconds(1)) < 0 || maxPrecopy.compareTo(MAX_PRECOPY_CEILING) > 0) {
      out.add("max pre-copy time " + maxPrecopy.toMillis() + " ms is out of range [1 s, 24 h]");
    }
    if (!bandwidthCap.isUnlimited() && bandwidthCap.bytesPerSecond() < MIN_BANDWIDTH_CAP.bytesPerSecond()) {
      out.add("bandwidth cap " + (long) bandwidthCap.bytesPerSecond() + " B/s is below 1 MiB/s");
    }
    if (stallRounds < 1 || stallRounds > MAX_STALL_ROUNDS) {
      out.add("stall rounds " + stallRounds + " is out of range [1, " + MAX_STALL_ROUNDS + "]");
    }
    if (switchoverFixedCost.isNegative() || switchoverFixedCost.compareTo(MAX_DOWNTIME) > 0) {
      out.add("switch-over fixed cost " + switchoverFixedCost.toMillis() + " ms is out of range [0, 10 min]");
    }
    return out;
  }
}
