package dev.ferry.agent.metrics;

import static dev.ferry.testkit.MetricsScrape.scrape;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {
    @Test
    void pageStreamAndRoundsAreServedUntilClosed() throws Exception {
        int port;
        try (AgentMetrics m = AgentMetrics.serve("127.0.0.1", 0)) {
            port = m.port();
            m.migrationOpened("m-1");
            m.migrationOpened("m-1");
            m.batchSent(1 << 20, 256, 10);
            m.batchSent(1 << 20, 256, 0);
            m.batchReceived(1 << 20, 256, 10);
            m.sourceRound(Duration.ofMillis(300), Duration.ofNanos(1_200_000));
            m.destinationRound();
            m.checkpoint(Duration.ofMillis(40), true);
            String text = scrape(port);
            assertTrue(text.contains("ferry_agent_page_stream_bytes_total{direction=\"sent\"} 2097152.0"), text);
            assertTrue(text.contains("ferry_agent_page_stream_bytes_total{direction=\"received\"} 1048576.0"), text);
            assertTrue(text.contains("ferry_agent_page_stream_pages_total{direction=\"sent\",kind=\"zero\"} 10.0"), text);
            assertTrue(text.contains("ferry_agent_rounds_total{role=\"source\"} 1.0"), text);
            assertTrue(text.contains("ferry_agent_freeze_window_seconds_bucket{le=\"0.0025\"} 1"), text);
            assertTrue(text.contains("ferry_agent_tracked_migrations 1.0"), text);
            assertTrue(text.contains("ferry_agent_checkpoints_total{result=\"ok\"} 1.0"), text);
            m.migrationClosed("m-1");
            assertTrue(scrape(port).contains("ferry_agent_tracked_migrations 0.0"));
        }
        assertThrows(ConnectException.class, () -> scrape(port));
    }
}
