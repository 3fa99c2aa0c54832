package dev.ferry.cli.attach;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.ferry.cli.ExitCode;
import dev.ferry.cli.CliRun;
import dev.ferry.cli.PlainOutput;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI over real gRPC against a recorded migration: attached start, watch with replay and
 * re-attach after the coordinator restarts, JSON, report, cancel, and the exit codes.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AttachedTest {
    private static final Pattern ROW = Pattern.compile("^\\s+(\\d+)\\s+[\\d,]+\\s+.*");

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static List<String> rows(CliRun r) {
        return r.outLines(ROW).stream().map(Matcher::group).toList();
    }

    @Test
    void attachedStartShowsOneRowPerRoundThenPhasesAndSummary() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(5)) {
            CliRun r = run("4242", "--to", "host2", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, r.code(), r.toString());
            assertTrue(r.out().startsWith("starting migration of pid 4242 to host2 via coordinator 127.0.0.1:"), r.out());
            List<String> rows = rows(r);
            assertEquals(5, rows.size(), r.out());
            for (int i = 0; i < 5; i++) {
                var m = ROW.matcher(rows.get(i));
                assertTrue(m.matches());
                assertEquals(i + 1, Integer.parseInt(m.group(1)));
            }
            assertTrue(r.out().contains("phases:\n  precopy"), r.out());
            assertTrue(r.out().contains("done: pid 4242 now runs on host2"), r.out());
            assertEquals("", r.err());
        }
    }

    /** The status line is drawn only when main says stdout is a live terminal, and never under --no-progress. */
    @Test
    void liveStatusLineOnlyOnALiveTerminalWithoutNoProgress() throws Exception {
        Terminals terminal = new Terminals(true, false);
        try (RecordedCoordinator c = new RecordedCoordinator(100)) {
            CliRun live = CliRun.on(terminal, "4242", "--to", "host2", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, live.code(), live.toString());
            assertTrue(live.out().contains("\r\u001b[2K"), "a live terminal gets the erased status line: " + live);
        }
        try (RecordedCoordinator c = new RecordedCoordinator(100)) {
            c.begin();
            CliRun plain = CliRun.on(terminal, "watch", "m-0001", "--no-progress", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, plain.code(), plain.toString());
            PlainOutput.assertPlain(plain.out(), plain.err()); // a live terminal, but --no-progress
            assertEquals(5, rows(plain).size(), plain.out());
        }
    }

    @Test
    void jsonIsOneParseableEventPerLine() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(2)) {
            CliRun r = run("4242", "--to", "host2", "--output", "json", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, r.code(), r.toString());
            List<String> lines = r.out().lines().toList();
            assertEquals(12, lines.size(), r.out());
            for (int i = 0; i < lines.size(); i++) {
                MigrationEvent.Builder e = MigrationEvent.newBuilder();
                JsonFormat.parser().merge(lines.get(i), e);
                assertEquals(i, e.getSequence());
            }
        }
    }

    @Test
    void watchReplaysAndReattachesAfterTheCoordinatorRestarts() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(150)) {
            c.begin();
            CliRun.Running watch = CliRun.start("watch", "m-0001", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            Await.until("round 2 shown", () -> watch.outSoFar().contains("\n    2 "), Duration.ofSeconds(30));
            c.restart();
            CliRun r = watch.await(Duration.ofSeconds(60));
            assertEquals(ExitCode.DONE, r.code(), r.toString());
            assertEquals(5, rows(r).size(), "each round exactly once across the re-attach:\n" + r.out());
            assertTrue(r.out().contains("re-attaching..."), r.out());
        }
    }

    @Test
    void cancelWhileAttachedEndsCancelledWithExitCode5() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(200)) {
            CliRun.Running attached = CliRun.start("4242", "--to", "host2", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            Await.until("round 1 shown", () -> attached.outSoFar().contains("\n    1 "), Duration.ofSeconds(30));
            CliRun cancel = run("cancel", "m-0001", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, cancel.code(), cancel.toString());
            assertTrue(cancel.out().startsWith("cancel requested: migration m-0001 is cancelled; pid 4242 runs on host1"), cancel.out());
            CliRun ended = attached.await(Duration.ofSeconds(30));
            assertEquals(ExitCode.CANCELLED, ended.code(), ended.toString());
            assertTrue(ended.out().contains("cancelled: cancelled by the operator"), ended.out());
            CliRun again = run("cancel", "m-0001", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.REFUSED, again.code());
            assertEquals("migrate: cannot cancel migration m-0001: migration m-0001 already ended\n", again.err());
        }
    }

    @Test
    void reportStatusListAgentsAndUnknownIds(@TempDir Path dir) throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(1)) {
            String at = "127.0.0.1:" + c.port();
            c.begin();
            assertEquals(ExitCode.DONE, run("watch", "m-0001", "--insecure", "--coordinator", at).code());
            Path svg = dir.resolve("m.svg");
            CliRun report = run("report", "m-0001", "--svg", svg.toString(), "--insecure", "--coordinator", at);
            assertEquals(ExitCode.DONE, report.code(), report.toString());
            assertEquals("wrote " + svg + " (5 rounds)\n", report.out());
            assertEquals(5, Files.readString(svg).split("class=\"dirty\"", -1).length - 1);

            CliRun status = run("status", "m-0001", "--insecure", "--coordinator", at);
            assertTrue(status.out().contains("phase      done, round 5"), status.out());
            assertTrue(status.out().contains("runs on    host2"), status.out());
            CliRun list = run("list", "--insecure", "--coordinator", at);
            assertTrue(list.out().lines().anyMatch(l -> l.matches("m-0001\\s+4242\\s+host1\\s+host2\\s+done\\s+5\\s.*105 ms.*")), list.out());
            CliRun agents = run("agents", "--insecure", "--coordinator", at);
            assertTrue(agents.out().lines().anyMatch(l -> l.matches("host1\\s+127.0.0.1:7101\\s+ok\\s+yes\\s+3.17.1\\s+6.1.0\\s+0\\s+50.0 GiB.*")),
                    agents.out());
            CliRun json = run("status", "m-0001", "--output", "json", "--insecure", "--coordinator", at);
            assertTrue(json.out().startsWith("{\"id\":\"m-0001\""), json.out());

            CliRun unknown = run("watch", "m-9", "--insecure", "--coordinator", at);
            assertEquals(ExitCode.REFUSED, unknown.code());
            assertEquals("migrate: cannot get migration m-9: no migration m-9\n", unknown.err());
        }
    }
}
