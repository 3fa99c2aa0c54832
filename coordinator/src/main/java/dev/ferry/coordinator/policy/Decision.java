package dev.ferry.coordinator.policy;

import java.time.Duration;

/**
 * The policy's verdict after a round, with a one-line reason for the operator.
 *
 * @param throttlePercent the throttle to apply (THROTTLE), else the one in force
 * @param expectedDowntime the downtime a freeze now would cost
 */
public record Decision(Kind kind, int throttlePercent, String reason, Duration expectedDowntime) {

  public enum Kind { CONTINUE, THROTTLE, FREEZE, ABORT }

  public static Decision of(Kind kind, int throttle, Duration expected, String reason) {
    return new Decision(kind, throttle, reason, expected);
  }

  @Override
  public String toString() {
    return kind + (kind == Kind.THROTTLE ? "(" + throttlePercent + "%)" : "") + ": " + reason;
  }
}
