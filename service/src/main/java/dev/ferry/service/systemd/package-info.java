/**
 * Running under systemd: {@link dev.ferry.service.systemd.ServiceNotifier} (sd_notify protocol:
 * READY, STATUS, STOPPING, WATCHDOG, EXTEND_TIMEOUT_USEC), {@link dev.ferry.service.systemd.WatchdogPinger}
 * (WATCHDOG=1 from a health check at half WATCHDOG_USEC) and {@link dev.ferry.service.systemd.GracefulShutdown}
 * (SIGTERM rolls unfinished work back before the JVM exits). All are no-ops without systemd.
 */
package dev.ferry.service.systemd;
