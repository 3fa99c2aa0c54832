package dev.ferry.cli.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.coordinator.metrics.CoordinatorMetrics;
import dev.ferry.proto.Decision;
import dev.ferry.proto.MigrationSummary;
import dev.ferry.proto.Phase;
import dev.ferry.proto.RoundFigures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** deploy/grafana/ferry.json only queries series that the coordinator and agents really serve. */
class GrafanaDashboardTest {
    private static final Pattern METRIC = Pattern.compile("\\bferry_[a-z_]+");

    private static String scrape(int port) throws Exception {
        return HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void everyQueriedSeriesIsServed() throws Exception {
        Path dashboard = Path.of(System.getProperty("ferry.repo.root", "..")).resolve("deploy/grafana/ferry.json");
        String json = Files.readString(dashboard);
        var root = JsonParser.parseString(json).getAsJsonObject(); // valid JSON
        assertEquals("ferry-convergence", root.get("uid").getAsString());

        Set<String> queried = new TreeSet<>();
        Matcher m = METRIC.matcher(json);
        while (m.find()) {
            queried.add(m.group());
        }
        for (String needed : new String[] {"ferry_round_dirty_pages", "ferry_round_expected_downtime_seconds",
            "ferry_migration_downtime_limit_seconds", "ferry_round_throughput_bytes_per_second",
            "ferry_migration_downtime_seconds_bucket"}) {
            assertTrue(queried.contains(needed), "dashboard lacks " + needed);
        }

        String served;
        try (CoordinatorMetrics c = CoordinatorMetrics.serve("127.0.0.1", 0);
             AgentMetrics a = AgentMetrics.serve("127.0.0.1", 0)) {
            c.migrationStarted("m-1", 300);
            c.roundCompleted("m-1", RoundFigures.newBuilder().setRound(1).setDirtyPages(10).build(), Decision.getDefaultInstance());
            c.migrationStarted("m-2", 300);
            c.migrationFinished("m-1", Phase.DONE, false, MigrationSummary.getDefaultInstance());
            c.migrationFinished("m-2", Phase.DONE, true, MigrationSummary.getDefaultInstance());
            a.batchSent(1, 1, 1);
            a.imagesSent(1);
            a.checkpoint(Duration.ofMillis(1), true);
            a.restore(Duration.ofMillis(1), true);
            served = scrape(c.port()) + scrape(a.port());
        }
        Set<String> missing = new TreeSet<>();
        for (String name : queried) {
            if (!Pattern.compile("(?m)^" + name + "[{ ]").matcher(served).find()) {
                missing.add(name);
            }
        }
        assertTrue(missing.isEmpty(), "queried but not served: " + missing);
    }
}
