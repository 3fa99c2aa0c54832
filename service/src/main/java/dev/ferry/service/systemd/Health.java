package dev.ferry.service.systemd;

import java.util.Objects;

/**
 * The answer of a daemon's health check: healthy or not, and one line saying what it does or what
 * is wrong ("serving, 2 active migrations"; "ZooKeeper session lost"). The watchdog shows the
 * line as the unit's status.
 */
public record Health(boolean healthy, String detail) {

    public Health {
        Objects.requireNonNull(detail, "detail");
    }

    public static Health ok(String detail) {
        return new Health(true, detail);
    }

    public static Health failing(String reason) {
        return new Health(false, reason);
    }

    /** The unit's status line for this answer. */
    String statusLine() {
        return healthy ? detail : "unhealthy: " + detail;
    }
}
