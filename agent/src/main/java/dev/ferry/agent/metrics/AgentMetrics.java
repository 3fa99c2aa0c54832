package dev.ferry.agent.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import dev.ferry.service.metrics.MetricsEndpoint;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * An agent's Prometheus metrics, in a registry of its own, optionally served on
 * {@code http://host:port/metrics} for as long as this object is open.
 *
 * <p>Wiring: AgentMain serves them ({@code --metrics-port}) and hands them to
 * {@code Agent.start(config, metrics)}, which feeds them: the source's rounds
 * ({@link #roundSent}, {@link #sourceRound}), the destination's page stream
 * ({@link #batchReceived}, {@link #destinationRound}), the page stores ({@link #watchStores}), the
 * migrations tracked or received; around CRIU, {@link #checkpoint}/{@link #restore}.
 * All calls are cheap and lock-free except the small tracked-set bookkeeping.
 */
public final class AgentMetrics implements AutoCloseable {
    private static final String DIRECTION = "direction";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private MetricsEndpoint endpoint; // set once by serve(), before the object is shared
    private final Set<String> tracked = new HashSet<>();

    private final Counter streamBytes;
    private final Counter streamPages;
    private final Counter streamBatches;
    private final Counter imageBytes;
    private final Counter rounds;
    private final Histogram roundDuration;
    private final Histogram freezeWindow;
    private final Gauge trackedMigrations;
    private final Counter checkpoints;
    private final Histogram checkpointDuration;
    private final Counter restores;
    private final Histogram restoreDuration;

    private AgentMetrics() {
        streamBytes = Counter.builder().name("ferry_agent_page_stream_bytes_total")
                .help("Page stream payload bytes (after compression), by direction: sent (source) or received (destination)")
                .labelNames(DIRECTION).register(registry);
        streamPages = Counter.builder().name("ferry_agent_page_stream_pages_total")
                .help("Pages carried by the page stream, by direction and kind (data, or zero: sent as a flag)")
                .labelNames(DIRECTION, "kind").register(registry);
        streamBatches = Counter.builder().name("ferry_agent_page_stream_batches_total")
                .help("Page batches, by direction").labelNames(DIRECTION).register(registry);
        imageBytes = Counter.builder().name("ferry_agent_image_stream_bytes_total")
                .help("Final CRIU image bytes streamed, by direction").labelNames(DIRECTION).register(registry);
        rounds = Counter.builder().name("ferry_agent_rounds_total")
                .help("Pre-copy rounds, by role: source (captured and sent) or destination (applied)")
                .labelNames("role").register(registry);
        roundDuration = Histogram.builder().name("ferry_agent_round_duration_seconds").unit(Unit.SECONDS)
                .help("Source rounds: freeze to destination acknowledgement").classicOnly()
                .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60).register(registry);
        freezeWindow = Histogram.builder().name("ferry_agent_freeze_window_seconds").unit(Unit.SECONDS)
                .help("Source rounds: time the process tree was stopped for the pagemap read and clear_refs")
                .classicOnly().classicUpperBounds(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
                .register(registry);
        trackedMigrations = Gauge.builder().name("ferry_agent_tracked_migrations")
                .help("Migrations this agent currently tracks or receives").register(registry);
        checkpoints = Counter.builder().name("ferry_agent_checkpoints_total").help("CRIU dumps by result (ok, failed)")
                .labelNames("result").register(registry);
        checkpointDuration = Histogram.builder().name("ferry_agent_checkpoint_duration_seconds").unit(Unit.SECONDS)
                .help("CRIU dump of the final delta").classicOnly()
                .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10).register(registry);
        restores = Counter.builder().name("ferry_agent_restores_total").help("CRIU restores by result (ok, failed)")
                .labelNames("result").register(registry);
        restoreDuration = Histogram.builder().name("ferry_agent_restore_duration_seconds").unit(Unit.SECONDS)
                .help("CRIU restore").classicOnly()
                .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10).register(registry);
        // exposed at 0 from the start: a dashboard's rate() and a scraper's "before" need the series
        imageBytes.initLabelValues("sent");
        imageBytes.initLabelValues("received");
        for (String result : new String[] {"ok", "failed"}) {
            checkpoints.initLabelValues(result);
            restores.initLabelValues(result);
        }
    }

    /** Metrics served on {@code http://host:port/metrics} (port 0: any free port, see {@link #port()}). */
    public static AgentMetrics serve(String host, int port) throws IOException {
        AgentMetrics m = new AgentMetrics();
        m.endpoint = MetricsEndpoint.serve(m.registry, host, port);
        return m;
    }

    /** Metrics kept in the registry only (no endpoint): tests, or metrics switched off. */
    public static AgentMetrics unexposed() {
        return new AgentMetrics();
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** The endpoint's port, or -1 when not served. */
    public int port() {
        return endpoint == null ? -1 : endpoint.port();
    }

    /** Source: a page batch went on the wire. */
    public void batchSent(long payloadBytes, long dataPages, long zeroPages) {
        stream("sent", payloadBytes, dataPages, zeroPages, 1);
    }

    /** Source: a whole round's page stream, once the destination acknowledged it. */
    public void roundSent(long payloadBytes, long dataPages, long zeroPages, long batches) {
        stream("sent", payloadBytes, dataPages, zeroPages, batches);
    }

    /** Destination: a page batch reached the store. */
    public void batchReceived(long payloadBytes, long dataPages, long zeroPages) {
        stream("received", payloadBytes, dataPages, zeroPages, 1);
    }

    private void stream(String direction, long payloadBytes, long dataPages, long zeroPages, long batches) {
        streamBytes.labelValues(direction).inc(payloadBytes);
        streamPages.labelValues(direction, "data").inc(dataPages);
        streamPages.labelValues(direction, "zero").inc(zeroPages);
        streamBatches.labelValues(direction).inc(batches);
    }

    /**
     * Serves the page stores' figures, read at each scrape: bytes their files take on disk and
     * pages they hold, over every open store. Call once (a second call is refused by the registry).
     */
    public void watchStores(LongSupplier bytesOnDisk, LongSupplier pagesHeld) {
        GaugeWithCallback.builder().name("ferry_agent_store_bytes").unit(Unit.BYTES)
                .help("Bytes the open page stores take on disk (destination role)")
                .callback(cb -> cb.call(bytesOnDisk.getAsLong())).register(registry);
        GaugeWithCallback.builder().name("ferry_agent_store_pages")
                .help("Pages held by the open page stores (destination role)")
                .callback(cb -> cb.call(pagesHeld.getAsLong())).register(registry);
    }

    /** Source: a round was captured, sent and acknowledged. */
    public void sourceRound(Duration round, Duration freeze) {
        rounds.labelValues("source").inc();
        roundDuration.observe(seconds(round));
        freezeWindow.observe(seconds(freeze));
    }

    /** Destination: a round was applied to the store. */
    public void destinationRound() {
        rounds.labelValues("destination").inc();
    }

    public void imagesSent(long bytes) {
        imageBytes.labelValues("sent").inc(bytes);
    }

    public void imagesReceived(long bytes) {
        imageBytes.labelValues("received").inc(bytes);
    }

    public void checkpoint(Duration took, boolean ok) {
        checkpoints.labelValues(ok ? "ok" : "failed").inc();
        checkpointDuration.observe(seconds(took));
    }

    public void restore(Duration took, boolean ok) {
        restores.labelValues(ok ? "ok" : "failed").inc();
        restoreDuration.observe(seconds(took));
    }

    /** A migration is tracked (source) or received (destination) here. Idempotent. */
    public synchronized void migrationOpened(String migrationId) {
        tracked.add(migrationId);
        trackedMigrations.set(tracked.size());
    }

    /** Idempotent. */
    public synchronized void migrationClosed(String migrationId) {
        tracked.remove(migrationId);
        trackedMigrations.set(tracked.size());
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    @Override
    public void close() {
        if (endpoint != null) {
            endpoint.close();
        }
    }
}
