package dev.ferry.cli.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.ferry.agent.Agent;
import dev.ferry.cli.ExitCode;
import dev.ferry.cli.CliRun;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.Phase;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against a real coordinator (embedded ZooKeeper) and two real agents on loopback, with
 * a real workload process: the host has no soft-dirty, so dry runs use the hash tracker.
 */
@Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
class RealCoordinatorTest {
    /** round, dirty pages, sent (value, unit), ... : the first columns of a row. */
    private static final Pattern ROW = Pattern.compile("^\\s+(\\d+)\\s+([\\d,]+)\\s+([\\d.]+) (B|KiB|MiB|GiB)\\s+.*");

    @TempDir
    static Path dir;
    static EmbeddedZooKeeper zk;
    static Agent host1;
    static Agent host2;
    static Coordinator coordinator;
    static String at;

    static CliRun migrate(String... args) {
        // --insecure: TLS is the subject of MutualTlsPathTest, not of this test
        return CliRun.of(CliRun.plus(args, "--insecure", "--coordinator", at));
    }

    static void await(String what, BooleanSupplier condition, Duration within) throws InterruptedException {
        dev.ferry.testkit.Await.until(what, condition, within);
    }

    @BeforeAll
    static void cluster() throws Exception {
        zk = EmbeddedZooKeeper.start();
        host1 = LoopbackParts.agent("host1", dir, zk, LoopbackParts.PLAINTEXT);
        host2 = LoopbackParts.agent("host2", dir, zk, LoopbackParts.PLAINTEXT);
        assertTrue(host1.awaitRegistered(Duration.ofSeconds(30)) && host2.awaitRegistered(Duration.ofSeconds(30)));
        coordinator = LoopbackParts.coordinator(zk, LoopbackParts.PLAINTEXT);
        at = coordinator.address();
        LoopbackParts.awaitLeaderListingBoth(coordinator, Duration.ofSeconds(60), "--insecure");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {coordinator, host1, host2, zk}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("closing " + c + ": " + e);
            }
        }
    }

    private static char state(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }

    @Test
    void agentsShowsBothHostsHealthy() {
        CliRun r = migrate("agents");
        assertEquals(ExitCode.DONE, r.code(), r.toString());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("host1\\s+127\\.0\\.0\\.1:\\d+\\s+ok\\s+(yes|no)\\s.*")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("host2\\s+127\\.0\\.0\\.1:\\d+\\s+ok\\s+(yes|no)\\s.*")), r.out());
    }

    @Test
    void dryRunTableJsonAndWatchReplay() throws Exception {
        try (Workload w = Workload.memtouch().sizeMib(32).ratePagesPerSecond(500).start()) {
            w.awaitOkLines(1, Duration.ofSeconds(30));
            CliRun table = migrate(Long.toString(w.pid()), "--from", "host1", "--to", "host2", "--dry-run", "--max-rounds", "5");
            assertTrue(table.code() == ExitCode.DONE || table.code() == ExitCode.WOULD_NOT_CONVERGE, table.toString());
            List<Matcher> rows = table.outLines(ROW);
            assertTrue(!rows.isEmpty() && rows.size() <= 5, table.out());
            for (int i = 0; i < rows.size(); i++) {
                assertEquals(i + 1, Integer.parseInt(rows.get(i).group(1)), "one row per round, in order:\n" + table.out());
            }
            long firstDirty = Long.parseLong(rows.get(0).group(2).replace(",", ""));
            assertTrue(firstDirty >= 32 * 256 / 2, "round 1 copies the 32 MiB workload at least: " + firstDirty); // 4 KiB pages
            assertTrue(Double.parseDouble(rows.get(0).group(3)) > 0, "bytes sent in round 1");
            assertTrue(table.out().contains("dry run: would"), table.out());
            assertTrue(w.isAlive() && state(w.pid()) != 'T', "a dry run leaves the process running");

            CliRun json = migrate(Long.toString(w.pid()), "--from", "host1", "--to", "host2", "--dry-run", "--max-rounds", "3",
                    "--output", "json");
            assertTrue(json.code() == ExitCode.DONE || json.code() == ExitCode.WOULD_NOT_CONVERGE, json.toString());
            List<MigrationEvent> events = new ArrayList<>();
            for (String line : json.out().lines().toList()) {
                MigrationEvent.Builder e = MigrationEvent.newBuilder();
                JsonFormat.parser().merge(line, e);
                events.add(e.build());
            }
            MigrationEvent last = events.get(events.size() - 1);
            assertTrue(last.hasFinished() && last.getFinished().getPhase() == Phase.DONE, last.toString());
            long rounds = events.stream().filter(MigrationEvent::hasRound).count();
            assertEquals(last.getFinished().getSummary().getRounds(), rounds);
            for (int i = 0; i < events.size(); i++) {
                assertEquals(i, events.get(i).getSequence());
            }

            CliRun watch = migrate("watch", last.getMigrationId());
            assertEquals(json.code(), watch.code(), watch.toString());
            assertEquals(rounds, watch.outLines(ROW).size(), "watch replays every round:\n" + watch.out());

            CliRun list = migrate("list");
            assertTrue(list.out().contains(last.getMigrationId()), list.out());
            Path svg = dir.resolve("report.svg");
            CliRun report = migrate("report", last.getMigrationId(), "--svg", svg.toString());
            assertEquals(ExitCode.DONE, report.code(), report.toString());
            assertEquals(rounds, Files.readString(svg).split("class=\"dirty\"", -1).length - 1);
            w.assertNoCorruption();
        }
    }

    @Test
    void cancelLeavesTheProcessRunning() throws Exception {
        try (Workload w = Workload.memtouch().sizeMib(16).ratePagesPerSecond(20_000).start()) {
            w.awaitOkLines(1, Duration.ofSeconds(30));
            // A limit it cannot meet and many rounds: still running when cancelled.
            CliRun started = migrate(Long.toString(w.pid()), "--from", "host1", "--to", "host2", "--dry-run",
                    "--downtime-limit", "1ms", "--max-rounds", "1000", "--detach");
            assertEquals(ExitCode.DONE, started.code(), started.toString());
            Matcher id = Pattern.compile("started migration (\\S+) ").matcher(started.out());
            assertTrue(id.find(), started.out());
            await("a round", () -> migrate("status", id.group(1)).out().matches("(?s).*round [1-9].*"), Duration.ofSeconds(60));
            CliRun cancel = migrate("cancel", id.group(1));
            assertEquals(ExitCode.DONE, cancel.code(), cancel.toString());
            CliRun watch = migrate("watch", id.group(1));
            assertEquals(ExitCode.CANCELLED, watch.code(), watch.toString());
            assertTrue(w.isAlive(), "the process survived the cancel");
            long before = w.lastOk().orElseThrow().counter();
            w.awaitOkBeyond(before, Duration.ofSeconds(30)); // and keeps running (not left stopped)
            assertTrue(state(w.pid()) != 'T', "not left stopped");
            w.assertNoCorruption();
        }
    }

    @Test
    void badInputIsOneLineWithTheDocumentedExitCode() throws Exception {
        CliRun noPid = migrate("4194000", "--from", "host1", "--to", "host2", "--dry-run");
        assertEquals(ExitCode.REFUSED, noPid.code(), noPid.toString());
        assertEquals(1, noPid.errLines().size(), noPid.err());
        assertTrue(noPid.err().contains("4194000"), noPid.err());

        try (Workload w = Workload.memtouch().sizeMib(4).start()) {
            CliRun noHost = migrate(Long.toString(w.pid()), "--from", "host1", "--to", "nohost", "--dry-run");
            assertEquals(ExitCode.REFUSED, noHost.code(), noHost.toString());
            assertEquals(1, noHost.errLines().size(), noHost.err());
            assertTrue(noHost.err().contains("nohost"), noHost.err());
            assertTrue(w.isAlive());
        }
        CliRun badDuration = migrate("1", "--to", "host2", "--downtime-limit", "3x");
        assertEquals(ExitCode.USAGE, badDuration.code());
        assertEquals(List.of("migrate: Invalid value for option '--downtime-limit': malformed duration '3x': use e.g. 300ms, 2s"
                + " (see: migrate --help)"), badDuration.errLines());
        CliRun badSize = migrate("1", "--to", "host2", "--bandwidth", "lots");
        assertEquals(ExitCode.USAGE, badSize.code());
        assertEquals(1, badSize.errLines().size());
        CliRun unknownId = migrate("status", "no-such-migration");
        assertEquals(ExitCode.REFUSED, unknownId.code(), unknownId.toString());
        assertEquals(1, unknownId.errLines().size());
    }
}
