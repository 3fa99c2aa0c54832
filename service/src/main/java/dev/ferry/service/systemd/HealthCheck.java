package dev.ferry.service.systemd;

/**
 * Whether the daemon can do its work right now. Runs on the watchdog's thread every half
 * watchdog interval: it must be cheap and must not block (read state the daemon keeps, don't
 * make RPCs). An exception counts as unhealthy.
 */
@FunctionalInterface
public interface HealthCheck {
    Health check();
}
