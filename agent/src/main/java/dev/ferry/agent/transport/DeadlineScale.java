package dev.ferry.agent.transport;

import java.time.Duration;
import java.util.Map;

/**
 * Multiplies every deadline the agent sets, so the same code runs on a fast host and inside the
 * slow emulated lab VM (where a first gRPC call can take 10 s). Read once from the environment
 * variable {@code FERRY_DEADLINE_SCALE} (a positive decimal, default 1).
 */
public record DeadlineScale(double factor) {
  public static final String ENV = "FERRY_DEADLINE_SCALE";
  public static final DeadlineScale ONE = new DeadlineScale(1.0);

  public DeadlineScale {
    if (!(factor > 0) || Double.isInfinite(factor)) {
      throw new IllegalArgumentException(ENV + " must be a positive number, got " + factor);
    }
  }

  /** The scale from {@code env}; an unparsable value is a configuration error naming the variable. */
  public static DeadlineScale fromEnvironment(Map<String, String> env) {
    String raw = env.get(ENV);
    if (raw == null || raw.isBlank()) {
      return ONE;
    }
    try {
      return new DeadlineScale(Double.parseDouble(raw.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(ENV + " must be a positive number, got '" + raw + "'", e);
    }
  }

  public Duration apply(Duration deadline) {
    return Duration.ofNanos((long) Math.min(Long.MAX_VALUE, deadline.toNanos() * factor));
  }
}
