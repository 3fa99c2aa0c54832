package dev.ferry.coordinator.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * The rounds of one migration so far and the throttle in force: everything the policy looks back
 * on. Immutable; {@link #after} and {@link #withThrottle} return new values.
 *
 * @param throttleSinceRound the last round run before the current throttle level was set (0: never)
 */
public record ConvergenceHistory(List<RoundSample> rounds, int throttlePercent, int throttleSinceRound) {

  public static final ConvergenceHistory EMPTY = new ConvergenceHistory(List.of(), 0, 0);

  public ConvergenceHistory {
    rounds = List.copyOf(rounds);
  }

  public ConvergenceHistory after(RoundSample sample) {
    List<RoundSample> next = new ArrayList<>(rounds);
    next.add(sample);
    return new ConvergenceHistory(next, throttlePercent, throttleSinceRound);
  }

  public ConvergenceHistory withThrottle(int percent) {
    return new ConvergenceHistory(rounds, percent, lastRound());
  }

  public boolean isEmpty() {
    return rounds.isEmpty();
  }

  public RoundSample last() {
    return rounds.get(rounds.size() - 1);
  }

  public int lastRound() {
    return rounds.isEmpty() ? 0 : last().round();
  }

  /** The sample {@code back} rounds before the last one, or null. */
  public RoundSample back(int back) {
    int i = rounds.size() - 1 - back;
    return i >= 0 ? rounds.get(i) : null;
  }

  /** Rounds run at the current throttle level. */
  public int roundsAtThrottle() {
    return lastRound() - throttleSinceRound;
  }

  public ByteSize totalSent() {
    ByteSize total = ByteSize.ZERO;
    for (RoundSample r : rounds) {
      total = total.plus(r.bytesSent());
    }
    return total;
  }
}
