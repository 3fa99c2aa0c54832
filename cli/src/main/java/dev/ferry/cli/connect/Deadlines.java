package dev.ferry.cli.connect;

import java.time.Duration;

/**
 * Deadlines of the CLI's unary calls, scaled by env {@code FERRY_DEADLINE_SCALE} (default 1):
 * the lab VM runs JVMs under emulation, an order of magnitude slower.
 */
public record Deadlines(double scale) {
    public static final String ENV = "FERRY_DEADLINE_SCALE";
    /** StartMigration validates on both agents (inspects the pid, describes the hosts). */
    private static final Duration START = Duration.ofSeconds(15);
    private static final Duration QUERY = Duration.ofSeconds(5);
    /** Cancel waits for the rollback to be recorded. */
    private static final Duration CANCEL = Duration.ofSeconds(15);

    public Deadlines {
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("deadline scale must be > 0, got " + scale);
        }
    }

    /** From the environment; a malformed value is a usage error naming the variable. */
    public static Deadlines fromEnvironment(String value) {
        if (value == null || value.isBlank()) {
            return new Deadlines(1);
        }
        try {
            return new Deadlines(Double.parseDouble(value.trim()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "malformed " + ENV + " '" + value + "': use a positive number, e.g. 1 or 10");
        }
    }

    public Duration start() {
        return scaled(START);
    }

    public Duration query() {
        return scaled(QUERY);
    }

    public Duration cancel() {
        return scaled(CANCEL);
    }

    private Duration scaled(Duration base) {
        return Duration.ofNanos(Math.round(base.toNanos() * scale));
    }
}
