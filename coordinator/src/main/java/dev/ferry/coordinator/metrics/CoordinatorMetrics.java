package dev.ferry.coordinator.metrics;

import dev.ferry.proto.Decision;
import dev.ferry.proto.MigrationSummary;
import dev.ferry.proto.Phase;
import dev.ferry.proto.RoundFigures;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import dev.ferry.service.metrics.MetricsEndpoint;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The coordinator's Prometheus metrics, in a registry of its own, optionally served on
 * {@code http://host:port/metrics} for as long as this object is open.
 *
 * <p>Wiring (one line in CoordinatorMain, closed with the daemon):
 * {@code CoordinatorMetrics metrics = CoordinatorMetrics.serve(bindHost, metricsPort);}
 * then {@link #migrationStarted}, {@link #roundCompleted}, {@link #migrationFinished} where the
 * state machine records those events (idempotent: safe to call again after a leader change).
 *
 * <p>Per-migration gauges ({@code migration} label) show the latest round of each active
 * migration and of the last {@value #RECENT_FINISHED} finished ones; older label values are
 * removed so the series count stays bounded. Histograms across migrations have no migration
 * label. Thread-safe: metric updates are lock-free; the small bookkeeping below is guarded by
 * {@code this} and never held across I/O.
 */
public final class CoordinatorMetrics implements AutoCloseable {
    /** Finished migrations whose per-migration gauges are kept (for the dashboard). */
    public static final int RECENT_FINISHED = 20;
    private static final double[] DOWNTIME_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30};
    private static final String MIGRATION = "migration";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private MetricsEndpoint endpoint; // set once by serve(), before the object is shared
    private final Set<String> active = new HashSet<>();
    private final Deque<String> recentFinished = new ArrayDeque<>();

    private final Gauge round;
    private final Gauge dirtyPages;
    private final Gauge sentBytes;
    private final Gauge throughput;
    private final Gauge dirtyRate;
    private final Gauge expectedDowntime;
    private final Gauge freezeWindow;
    private final Gauge downtimeLimit;
    private final Gauge throttle;
    private final Gauge activeMigrations;
    private final Counter rounds;
    private final Counter precopyBytes;
    private final Histogram roundDuration;
    private final Histogram roundFreezeWindow;
    private final Histogram roundDirtyPages;
    private final Counter migrations;
    private final Histogram downtime;
    private final Histogram predictedDowntime;
    private final Histogram migrationDuration;

    private CoordinatorMetrics() {
        round = gauge("ferry_round", "Latest completed pre-copy round of the migration (1-based)");
        dirtyPages = gauge("ferry_round_dirty_pages", "Pages found written in the migration's latest round");
        sentBytes = gauge("ferry_round_sent_bytes", "Payload bytes sent in the migration's latest round");
        throughput = gauge("ferry_round_throughput_bytes_per_second", "Copy throughput of the migration's latest round");
        dirtyRate = gauge("ferry_round_dirty_rate_pages_per_second", "Pages dirtied per second before the latest round");
        expectedDowntime = gauge("ferry_round_expected_downtime_seconds",
                "Downtime the policy expected after the migration's latest round");
        freezeWindow = gauge("ferry_round_freeze_window_seconds",
                "Time the process was stopped for the pagemap read and clear_refs in the latest round");
        downtimeLimit = gauge("ferry_migration_downtime_limit_seconds", "The migration's downtime limit");
        throttle = gauge("ferry_migration_throttle_ratio", "Auto-converge throttle of the migration (0..0.99)");
        activeMigrations = Gauge.builder().name("ferry_migrations_active").help("Migrations in progress").register(registry);
        rounds = Counter.builder().name("ferry_rounds_total").help("Pre-copy rounds completed").register(registry);
        precopyBytes = Counter.builder().name("ferry_precopy_sent_bytes_total")
                .help("Payload bytes sent by pre-copy rounds").register(registry);
        roundDuration = Histogram.builder().name("ferry_round_duration_seconds").unit(Unit.SECONDS)
                .help("Whole round: freeze to destination acknowledgement").classicOnly()
                .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60).register(registry);
        roundFreezeWindow = Histogram.builder().name("ferry_round_freeze_seconds").unit(Unit.SECONDS)
                .help("Per-round freeze window (pagemap read and clear_refs)").classicOnly()
                .classicUpperBounds(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5).register(registry);
        roundDirtyPages = Histogram.builder().name("ferry_round_dirty_pages_distribution")
                .help("Pages found written per round").classicOnly()
                .classicExponentialUpperBounds(16, 4, 10).register(registry);
        migrations = Counter.builder().name("ferry_migrations_total")
                .help("Finished migrations by outcome (done, failed, cancelled) and whether a dry run")
                .labelNames("outcome", "dry_run").register(registry);
        downtime = Histogram.builder().name("ferry_migration_downtime_seconds").unit(Unit.SECONDS)
                .help("Measured downtime of switch-overs: freeze start to resumed on the destination")
                .classicOnly().classicUpperBounds(DOWNTIME_BUCKETS).register(registry);
        predictedDowntime = Histogram.builder().name("ferry_migration_predicted_downtime_seconds").unit(Unit.SECONDS)
                .help("Downtime predicted by dry runs").classicOnly().classicUpperBounds(DOWNTIME_BUCKETS).register(registry);
        migrationDuration = Histogram.builder().name("ferry_migration_duration_seconds").unit(Unit.SECONDS)
                .help("Whole migration, start to end").classicOnly()
                .classicUpperBounds(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800).register(registry);
    }

    /** Metrics served on {@code http://host:port/metrics} (port 0: any free port, see {@link #port()}). */
    public static CoordinatorMetrics serve(String host, int port) throws IOException {
        CoordinatorMetrics m = new CoordinatorMetrics();
        m.endpoint = MetricsEndpoint.serve(m.registry, host, port);
        return m;
    }

    /** Metrics kept in the registry only (no endpoint): tests, or metrics switched off. */
    public static CoordinatorMetrics unexposed() {
        return new CoordinatorMetrics();
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** The endpoint's port, or -1 when not served. */
    public int port() {
        return endpoint == null ? -1 : endpoint.port();
    }

    public void migrationStarted(String migrationId, long downtimeLimitMillis) {
        synchronized (this) {
            active.add(migrationId);
            recentFinished.remove(migrationId);
            activeMigrations.set(active.size());
        }
        downtimeLimit.labelValues(migrationId).set(downtimeLimitMillis / 1e3);
    }

    public void roundCompleted(String migrationId, RoundFigures f, Decision d) {
        round.labelValues(migrationId).set(f.getRound());
        dirtyPages.labelValues(migrationId).set(f.getDirtyPages());
        sentBytes.labelValues(migrationId).set(f.getBytesSent());
        throughput.labelValues(migrationId).set(f.getBandwidthBytesPerSec());
        dirtyRate.labelValues(migrationId).set(f.getDirtyPagesPerSec());
        expectedDowntime.labelValues(migrationId).set(d.getExpectedDowntimeMillis() / 1e3);
        freezeWindow.labelValues(migrationId).set(f.getFreezeWindowMicros() / 1e6);
        throttle.labelValues(migrationId).set(d.getThrottlePercent() / 100.0);
        rounds.inc();
        precopyBytes.inc(f.getBytesSent());
        roundDuration.observe(f.getRoundMicros() / 1e6);
        roundFreezeWindow.observe(f.getFreezeWindowMicros() / 1e6);
        roundDirtyPages.observe(f.getDirtyPages());
    }

    /** @param outcome DONE, FAILED or CANCELLED */
    public void migrationFinished(String migrationId, Phase outcome, boolean dryRun, MigrationSummary summary) {
        String evicted = null;
        synchronized (this) {
            if (!active.remove(migrationId)) {
                return; // already counted (or never started here): keep the counters honest
            }
            activeMigrations.set(active.size());
            recentFinished.addLast(migrationId);
            if (recentFinished.size() > RECENT_FINISHED) {
                evicted = recentFinished.removeFirst();
            }
        }
        migrations.labelValues(outcome.name().toLowerCase(Locale.ROOT), Boolean.toString(dryRun)).inc();
        if (outcome == Phase.DONE) {
            if (dryRun) {
                predictedDowntime.observe(summary.getPredictedDowntimeMillis() / 1e3);
            } else {
                downtime.observe(summary.getDowntimeMillis() / 1e3);
            }
        }
        migrationDuration.observe(summary.getTotalMillis() / 1e3);
        throttle.labelValues(migrationId).set(0);
        if (evicted != null) {
            forget(evicted);
        }
    }

    private void forget(String migrationId) {
        for (Gauge g : new Gauge[] {round, dirtyPages, sentBytes, throughput, dirtyRate, expectedDowntime,
            freezeWindow, downtimeLimit, throttle}) {
            g.remove(migrationId);
        }
    }

    private Gauge gauge(String name, String help) {
        return Gauge.builder().name(name).help(help).labelNames(MIGRATION).register(registry);
    }

    @Override
    public void close() {
        if (endpoint != null) {
            endpoint.close();
        }
    }
}
