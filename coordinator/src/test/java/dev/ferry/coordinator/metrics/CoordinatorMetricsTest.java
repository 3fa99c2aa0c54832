package dev.ferry.coordinator.metrics;

import static dev.ferry.testkit.MetricsScrape.scrape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.Decision;
import dev.ferry.proto.DecisionKind;
import dev.ferry.proto.MigrationSummary;
import dev.ferry.proto.Phase;
import dev.ferry.proto.RoundFigures;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

class CoordinatorMetricsTest {
    private static RoundFigures figures(int round, long dirty) {
        return RoundFigures.newBuilder().setRound(round).setDirtyPages(dirty).setBytesSent(dirty * 4096)
                .setBandwidthBytesPerSec(1.5e9).setFreezeWindowMicros(1_500).setRoundMicros(250_000).build();
    }

    @Test
    void roundsAndOutcomesAreServedUntilClosed() throws Exception {
        int port;
        try (CoordinatorMetrics m = CoordinatorMetrics.serve("127.0.0.1", 0)) {
            port = m.port();
            assertTrue(port > 0);
            m.migrationStarted("m-1", 300);
            m.roundCompleted("m-1", figures(1, 262_144), Decision.newBuilder().setKind(DecisionKind.CONTINUE)
                    .setExpectedDowntimeMillis(1_800).build());
            m.roundCompleted("m-1", figures(2, 512), Decision.newBuilder().setKind(DecisionKind.FREEZE)
                    .setExpectedDowntimeMillis(12).build());
            String live = scrape(port);
            assertTrue(live.contains("ferry_migrations_active 1.0"), live);
            assertTrue(live.contains("ferry_round{migration=\"m-1\"} 2.0"), live);
            assertTrue(live.contains("ferry_round_dirty_pages{migration=\"m-1\"} 512.0"), live);
            assertTrue(live.contains("ferry_round_expected_downtime_seconds{migration=\"m-1\"} 0.012"), live);
            assertTrue(live.contains("ferry_migration_downtime_limit_seconds{migration=\"m-1\"} 0.3"), live);
            assertTrue(live.contains("ferry_rounds_total 2.0"), live);
            assertTrue(live.contains("ferry_round_freeze_seconds_count 2"), live);

            MigrationSummary s = MigrationSummary.newBuilder().setDowntimeMillis(105).setTotalMillis(2_100).build();
            m.migrationFinished("m-1", Phase.DONE, false, s);
            m.migrationFinished("m-1", Phase.DONE, false, s); // again (leader change): counted once
            String done = scrape(port);
            assertTrue(done.contains("ferry_migrations_active 0.0"), done);
            assertTrue(done.contains("ferry_migrations_total{dry_run=\"false\",outcome=\"done\"} 1.0"), done);
            assertTrue(done.contains("ferry_migration_downtime_seconds_bucket{le=\"0.2\"} 1"), done);
            assertTrue(done.contains("ferry_migration_downtime_seconds_bucket{le=\"0.1\"} 0"), done);
        }
        assertThrows(ConnectException.class, () -> scrape(port), "closed: the endpoint is gone");
    }

    @Test
    void perMigrationSeriesAreBoundedToRecentOnes() {
        CoordinatorMetrics m = CoordinatorMetrics.unexposed();
        for (int i = 0; i <= CoordinatorMetrics.RECENT_FINISHED; i++) {
            m.migrationStarted("m-" + i, 300);
            m.roundCompleted("m-" + i, figures(1, 100), Decision.getDefaultInstance());
            m.migrationFinished("m-" + i, Phase.CANCELLED, true, MigrationSummary.getDefaultInstance());
        }
        var snapshot = m.registry().scrape(name -> name.equals("ferry_round_dirty_pages"));
        var points = snapshot.get(0).getDataPoints();
        assertEquals(CoordinatorMetrics.RECENT_FINISHED, points.size());
        assertFalse(points.stream().anyMatch(p -> p.getLabels().get("migration").equals("m-0")), "the oldest was dropped");
        m.close();
    }
}
