package dev.ferry.service.systemd;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends {@code WATCHDOG=1} every half {@code WATCHDOG_USEC} (the interval sd_watchdog_enabled(3)
 * recommends) while the daemon's {@link HealthCheck} says healthy, and withholds it while it does
 * not: then systemd kills the service at {@code WatchdogSec=} and, with {@code Restart=on-failure},
 * starts it anew. A hung JVM (no thread runs the check) is caught the same way.
 *
 * <p>The check's detail line becomes the unit's {@code STATUS=} whenever it changes.
 *
 * <p>Thread confinement: ticks run on one private daemon thread; {@link #close} may be called from
 * any thread and waits for a running tick to end.
 */
public final class WatchdogPinger implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WatchdogPinger.class);

    private final ServiceNotifier notifier;
    private final HealthCheck check;
    private final Optional<Duration> interval;
    private final ScheduledExecutorService ticker;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong withheld = new AtomicLong();
    /** Confined to the ticker thread. */
    private String lastStatus;
    private boolean lastHealthy = true;

    private WatchdogPinger(ServiceNotifier notifier, HealthCheck check, Optional<Duration> interval) {
        this.notifier = notifier;
        this.check = check;
        this.interval = interval;
        this.ticker = interval.isPresent()
                ? Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread thread = new Thread(r, "ferry-watchdog");
                    thread.setDaemon(true);
                    return thread;
                })
                : null;
    }

    /**
     * Starts pinging if the environment asks for it ({@code WATCHDOG_USEC} set, and
     * {@code WATCHDOG_PID}, if set, naming this process) and the notifier is enabled; otherwise
     * returns an inactive pinger (one debug line).
     */
    public static WatchdogPinger start(ServiceNotifier notifier, Map<String, String> environment, HealthCheck check) {
        Objects.requireNonNull(check, "check");
        Optional<Duration> interval = notifier.enabled()
                ? pingInterval(environment, ProcessHandle.current().pid())
                : Optional.empty();
        WatchdogPinger pinger = new WatchdogPinger(notifier, check, interval);
        if (interval.isEmpty()) {
            log.debug("No service watchdog requested (WATCHDOG_USEC unset, for another pid, or no NOTIFY_SOCKET)");
        } else {
            long periodMicros = interval.get().toNanos() / 1000;
            log.info("Service watchdog: pinging every {} ms while healthy", periodMicros / 1000);
            pinger.ticker.scheduleAtFixedRate(pinger::tick, 0, periodMicros, TimeUnit.MICROSECONDS);
        }
        return pinger;
    }

    /** From this process's environment. */
    public static WatchdogPinger start(ServiceNotifier notifier, HealthCheck check) {
        return start(notifier, System.getenv(), check);
    }

    /**
     * Half of {@code WATCHDOG_USEC}, or empty when no watchdog is asked of process {@code pid}.
     * Pure: the environment is a value.
     */
    public static Optional<Duration> pingInterval(Map<String, String> environment, long pid) {
        String usec = environment.get("WATCHDOG_USEC");
        if (usec == null || usec.isBlank()) {
            return Optional.empty();
        }
        String watchdogPid = environment.get("WATCHDOG_PID");
        try {
            if (watchdogPid != null && !watchdogPid.isBlank() && Long.parseLong(watchdogPid.strip()) != pid) {
                return Optional.empty();
            }
            long micros = Long.parseLong(usec.strip());
            return micros <= 0 ? Optional.empty() : Optional.of(Duration.ofNanos(micros * 1000 / 2));
        } catch (NumberFormatException malformed) {
            log.warn("Ignoring malformed WATCHDOG_USEC={} / WATCHDOG_PID={}", usec, watchdogPid);
            return Optional.empty();
        }
    }

    public boolean active() {
        return interval.isPresent();
    }

    public Optional<Duration> interval() {
        return interval;
    }

    /** Pings sent so far. */
    public long pingsSent() {
        return sent.get();
    }

    /** Ticks at which the check said unhealthy (or threw) and no ping was sent. */
    public long pingsWithheld() {
        return withheld.get();
    }

    private void tick() {
        Health health;
        try {
            health = Objects.requireNonNull(check.check(), "health check returned null");
        } catch (RuntimeException e) {
            health = Health.failing("health check failed: " + e);
        }
        if (health.healthy() != lastHealthy) {
            if (health.healthy()) {
                log.info("Healthy again ({}): resuming watchdog pings", health.detail());
            } else {
                log.warn("Unhealthy ({}): withholding watchdog pings; systemd restarts the service if this lasts", health.detail());
            }
            lastHealthy = health.healthy();
        }
        String status = health.statusLine();
        if (!status.equals(lastStatus)) {
            notifier.status(status);
            lastStatus = status;
        }
        if (health.healthy()) {
            if (notifier.watchdog() == Delivery.SENT) {
                sent.incrementAndGet();
            }
        } else {
            withheld.incrementAndGet();
        }
    }

    @Override
    public void close() {
        if (ticker != null) {
            ticker.shutdownNow();
            try {
                ticker.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
