package dev.ferry.cli.integration;

import static dev.ferry.testkit.MetricsScrape.scrape;
import static dev.ferry.testkit.MetricsScrape.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.ferry.agent.Agent;
import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.cli.ExitCode;
import dev.ferry.cli.CliRun;
import dev.ferry.coordinator.metrics.CoordinatorMetrics;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.Phase;
import dev.ferry.proto.RoundEvent;
import dev.ferry.proto.TrackerKind;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.Workload;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemons' metrics as Prometheus sees them: a real dry-run migration through a real
 * coordinator and two real agents on loopback (embedded ZooKeeper, a real workload), then the
 * three /metrics endpoints scraped over HTTP. Every figure is checked against the migration's own
 * event journal (what `migrate --output json` printed), so the series carry the real paths' values.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServedMetricsTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        // --insecure: TLS is the subject of MutualTlsPathTest, not of this test
        return CliRun.of(CliRun.plus(args, "--insecure"));
    }

    @Test
    void aDryRunShowsUpInEveryEndpointWithItsJournalFigures() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
             AgentMetrics m1 = AgentMetrics.serve("127.0.0.1", 0);
             AgentMetrics m2 = AgentMetrics.serve("127.0.0.1", 0);
             CoordinatorMetrics mc = CoordinatorMetrics.serve("127.0.0.1", 0);
             Agent host1 = Agent.start(LoopbackParts.agentConfig("host1", dir, zk, LoopbackParts.PLAINTEXT), m1);
             Agent host2 = Agent.start(LoopbackParts.agentConfig("host2", dir, zk, LoopbackParts.PLAINTEXT), m2);
             Coordinator coordinator = new Coordinator(LoopbackParts.coordinatorConfig(zk, LoopbackParts.PLAINTEXT), mc).start();
             Workload w = Workload.memtouch().sizeMib(16).ratePagesPerSecond(500).start()) {
            assertTrue(host1.awaitRegistered(Duration.ofSeconds(30)) && host2.awaitRegistered(Duration.ofSeconds(30)));
            w.awaitOkLines(1, Duration.ofSeconds(30));
            String before = scrape(mc.port());
            assertEquals(0, value(before, "ferry_rounds_total"), "nothing counted before the migration");

            LoopbackParts.awaitLeaderListingBoth(coordinator, Duration.ofSeconds(60), "--insecure");
            CliRun dryRun = run(Long.toString(w.pid()), "--from", "host1", "--to", "host2", "--dry-run",
                    "--max-rounds", "4", "--output", "json", "--coordinator", coordinator.address());
            assertTrue(dryRun.code() == ExitCode.DONE || dryRun.code() == ExitCode.WOULD_NOT_CONVERGE, dryRun.toString());
            String out = dryRun.out();

            List<MigrationEvent> events = new ArrayList<>();
            for (String line : out.lines().toList()) {
                MigrationEvent.Builder e = MigrationEvent.newBuilder();
                JsonFormat.parser().merge(line, e);
                events.add(e.build());
            }
            List<RoundEvent> rounds = events.stream().filter(MigrationEvent::hasRound).map(MigrationEvent::getRound).toList();
            MigrationInfo finished = events.get(events.size() - 1).getFinished();
            assertEquals(Phase.DONE, finished.getPhase(), out);
            assertTrue(!rounds.isEmpty(), out);
            String id = finished.getId();
            RoundEvent last = rounds.get(rounds.size() - 1);
            long sent = rounds.stream().mapToLong(r -> r.getFigures().getBytesSent()).sum();
            long pages = rounds.stream().mapToLong(r -> r.getFigures().getDirtyPages()).sum();
            long zero = rounds.stream().mapToLong(r -> r.getFigures().getZeroPages()).sum();

            // the gaps closed with the metrics: terminal records keep round, tracker, total time
            assertEquals(rounds.size(), finished.getRound(), "finished info names its last round");
            assertEquals(TrackerKind.CONTENT_HASH, finished.getTracker(), "no soft-dirty on the host: hash tracker");
            assertTrue(finished.getSummary().getTotalMillis() > 0, finished.toString());
            MigrationEvent precopy = events.stream().filter(e -> e.hasPhase() && e.getPhase().getPhase() == Phase.PRECOPY)
                    .findFirst().orElseThrow();
            assertEquals(TrackerKind.CONTENT_HASH, precopy.getPhase().getTracker(), precopy.toString());

            String c = scrape(mc.port());
            String label = "{migration=\"" + id + "\"}";
            assertEquals(last.getFigures().getRound(), value(c, "ferry_round" + label));
            assertEquals(last.getFigures().getDirtyPages(), value(c, "ferry_round_dirty_pages" + label));
            assertEquals(last.getFigures().getBytesSent(), value(c, "ferry_round_sent_bytes" + label));
            assertEquals(last.getFigures().getBandwidthBytesPerSec(), value(c, "ferry_round_throughput_bytes_per_second" + label), 1e-3);
            assertEquals(last.getDecision().getExpectedDowntimeMillis() / 1e3,
                    value(c, "ferry_round_expected_downtime_seconds" + label), 1e-9);
            assertEquals(last.getFigures().getFreezeWindowMicros() / 1e6, value(c, "ferry_round_freeze_window_seconds" + label), 1e-9);
            assertEquals(finished.getLimits().getDowntimeLimitMillis() / 1e3, value(c, "ferry_migration_downtime_limit_seconds" + label), 1e-9);
            assertEquals(rounds.size(), value(c, "ferry_rounds_total"));
            assertEquals(sent, value(c, "ferry_precopy_sent_bytes_total"));
            assertEquals(rounds.size(), value(c, "ferry_round_freeze_seconds_count"));
            assertEquals(0, value(c, "ferry_migrations_active"));
            assertEquals(1, value(c, "ferry_migrations_total{dry_run=\"true\",outcome=\"done\"}"));
            assertEquals(1, value(c, "ferry_migration_predicted_downtime_seconds_count"));
            assertEquals(finished.getSummary().getPredictedDowntimeMillis() / 1e3,
                    value(c, "ferry_migration_predicted_downtime_seconds_sum"), 1e-9);
            assertEquals(finished.getSummary().getTotalMillis() / 1e3, value(c, "ferry_migration_duration_seconds_sum"), 1e-9);

            String source = scrape(m1.port());
            assertEquals(sent, value(source, "ferry_agent_page_stream_bytes_total{direction=\"sent\"}"));
            assertEquals(pages - zero, value(source, "ferry_agent_page_stream_pages_total{direction=\"sent\",kind=\"data\"}"));
            assertEquals(zero, value(source, "ferry_agent_page_stream_pages_total{direction=\"sent\",kind=\"zero\"}"));
            assertEquals(rounds.size(), value(source, "ferry_agent_rounds_total{role=\"source\"}"));
            assertEquals(rounds.size(), value(source, "ferry_agent_freeze_window_seconds_count"));
            assertEquals(0, value(source, "ferry_agent_tracked_migrations"), "tracking stopped at the end of the dry run");

            String destination = scrape(m2.port());
            assertEquals(sent, value(destination, "ferry_agent_page_stream_bytes_total{direction=\"received\"}"));
            assertEquals(pages - zero, value(destination, "ferry_agent_page_stream_pages_total{direction=\"received\",kind=\"data\"}"));
            assertEquals(rounds.size(), value(destination, "ferry_agent_rounds_total{role=\"destination\"}"));
            assertEquals(value(source, "ferry_agent_page_stream_batches_total{direction=\"sent\"}"),
                    value(destination, "ferry_agent_page_stream_batches_total{direction=\"received\"}"));
            assertEquals(0, value(destination, "ferry_agent_store_bytes"), "the dry run's store was discarded");

            // `migrate list` shows the round the migration ended in (was 0 for finished ones)
            CliRun list = run("list", "--coordinator", coordinator.address());
            assertEquals(ExitCode.DONE, list.code(), list.toString());
            String row = list.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow();
            assertTrue(row.matches(Pattern.quote(id) + "\\s+\\d+\\s+host1\\s+host2\\s+done\\s+" + rounds.size() + "\\s.*"), row);

            // gRPC health on the coordinator, as on the agents
            ManagedChannel ch = Grpc.newChannelBuilder(coordinator.address(), InsecureChannelCredentials.create()).build();
            try {
                HealthCheckResponse health = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance());
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
            } finally {
                ch.shutdownNow();
            }
            w.assertNoCorruption();
            assertTrue(w.isAlive(), "a dry run leaves the process running");
            System.out.println(String.format(Locale.ROOT, "served metrics: %d rounds, %d bytes sent", rounds.size(), sent));
        }
    }
}
