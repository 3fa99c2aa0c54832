package dev.ferry.cli.attach;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.ferry.cli.ExitCode;
import dev.ferry.cli.MigrateCommand;
import dev.ferry.cli.PlainOutput;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.testkit.Await;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

    record Run(int code, String out, String err) {
        List<String> rows() {
            return out.lines().filter(l -> ROW.matcher(l).matches()).toList();
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = MigrateCommand.run(args, new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(new byte[0]));
        PlainOutput.assertPlain(out.toString(), err.toString());
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void attachedStartShowsOneRowPerRoundThenPhasesAndSummary() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(5)) {
            Run r = run("4242", "--to", "host2", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, r.code(), r.toString());
            assertTrue(r.out().startsWith("starting migration of pid 4242 to host2 via coordinator 127.0.0.1:"), r.out());
            List<String> rows = r.rows();
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
            Run live = runOn(terminal, "4242", "--to", "host2", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, live.code(), live.toString());
            assertTrue(live.out().contains("\r\u001b[2K"), "a live terminal gets the erased status line: " + live);
        }
        try (RecordedCoordinator c = new RecordedCoordinator(100)) {
            c.begin();
            Run plain = runOn(terminal, "watch", "m-0001", "--no-progress", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, plain.code(), plain.toString());
            PlainOutput.assertPlain(plain.out(), plain.err());
            assertEquals(5, plain.rows().size(), plain.out());
        }
    }

    private static Run runOn(Terminals terminals, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = MigrateCommand.run(args, new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(new byte[0]), terminals);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void jsonIsOneParseableEventPerLine() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(2)) {
            Run r = run("4242", "--to", "host2", "--output", "json", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
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
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> MigrateCommand.run(
                    new String[] {"watch", "m-0001", "--insecure", "--coordinator", "127.0.0.1:" + c.port()},
                    new PrintWriter(out, true), new PrintWriter(err, true), new ByteArrayInputStream(new byte[0])));
            Await.until("round 2 shown", () -> out.toString().contains("\n    2 "), Duration.ofSeconds(30));
            c.restart();
            assertEquals(ExitCode.DONE, code.get(60, TimeUnit.SECONDS), out + "\n" + err);
            Run r = new Run(0, out.toString(), err.toString());
            PlainOutput.assertPlain(r.out(), r.err());
            assertEquals(5, r.rows().size(), "each round exactly once across the re-attach:\n" + r.out());
            assertTrue(r.out().contains("re-attaching..."), r.out());
        }
    }

    @Test
    void cancelWhileAttachedEndsCancelledWithExitCode5() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(200)) {
            StringWriter out = new StringWriter();
            CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> MigrateCommand.run(
                    new String[] {"4242", "--to", "host2", "--insecure", "--coordinator", "127.0.0.1:" + c.port()},
                    new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), new ByteArrayInputStream(new byte[0])));
            Await.until("round 1 shown", () -> out.toString().contains("\n    1 "), Duration.ofSeconds(30));
            Run cancel = run("cancel", "m-0001", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
            assertEquals(ExitCode.DONE, cancel.code(), cancel.toString());
            assertTrue(cancel.out().startsWith("cancel requested: migration m-0001 is cancelled; pid 4242 runs on host1"), cancel.out());
            assertEquals(ExitCode.CANCELLED, code.get(30, TimeUnit.SECONDS), out.toString());
            assertTrue(out.toString().contains("cancelled: cancelled by the operator"), out.toString());
            PlainOutput.assertPlain(out.toString());
            Run again = run("cancel", "m-0001", "--insecure", "--coordinator", "127.0.0.1:" + c.port());
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
            Run report = run("report", "m-0001", "--svg", svg.toString(), "--insecure", "--coordinator", at);
            assertEquals(ExitCode.DONE, report.code(), report.toString());
            assertEquals("wrote " + svg + " (5 rounds)\n", report.out());
            assertEquals(5, Files.readString(svg).split("class=\"dirty\"", -1).length - 1);

            Run status = run("status", "m-0001", "--insecure", "--coordinator", at);
            assertTrue(status.out().contains("phase      done, round 5"), status.out());
            assertTrue(status.out().contains("runs on    host2"), status.out());
            Run list = run("list", "--insecure", "--coordinator", at);
            assertTrue(list.out().lines().anyMatch(l -> l.matches("m-0001\\s+4242\\s+host1\\s+host2\\s+done\\s+5\\s.*105 ms.*")), list.out());
            Run agents = run("agents", "--insecure", "--coordinator", at);
            assertTrue(agents.out().lines().anyMatch(l -> l.matches("host1\\s+127.0.0.1:7101\\s+ok\\s+yes\\s+3.17.1\\s+6.1.0\\s+0\\s+50.0 GiB.*")),
                    agents.out());
            Run json = run("status", "m-0001", "--output", "json", "--insecure", "--coordinator", at);
            assertTrue(json.out().startsWith("{\"id\":\"m-0001\""), json.out());

            Run unknown = run("watch", "m-9", "--insecure", "--coordinator", at);
            assertEquals(ExitCode.REFUSED, unknown.code());
            assertEquals("migrate: cannot get migration m-9: no migration m-9\n", unknown.err());
        }
    }
}
