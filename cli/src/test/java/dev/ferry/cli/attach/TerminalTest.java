package dev.ferry.cli.attach;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.cli.ExitCode;
import dev.ferry.cli.PlainOutput;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI as a separate process in a real terminal (tmux): the live status line never garbles
 * the rows; Ctrl-C asks, then detaches or cancels. And on a non-terminal stdin, Ctrl-C detaches.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TerminalTest {
    /** A complete round row: every column, the decision and its whole reason. */
    private static final Pattern FULL_ROW = Pattern.compile(
            "^\\s+(\\d) +[\\d,]+ +[\\d.]+ [KMG]?i?B +[\\d.]+ m?s +[\\d.]+ GiB/s +[\\d.]+k? p/s +[\\d.]+ ms +[\\d.]+ m?s"
                    + "  (continue|freeze) +expected downtime \\d+ ms (>|<=) limit 300 ms$");

    @BeforeAll
    static void needsTmux() {
        assumeTrue(Tmux.available(), "tmux is not installed: the terminal test needs a real terminal");
    }

    private static String migrate(String args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return java + " -cp " + System.getProperty("java.class.path") + " dev.ferry.cli.MigrateCommand " + args;
    }

    @Test
    void liveRenderingDoesNotGarble() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(1_500); Tmux t = new Tmux()) {
            t.start(200, 40, migrate("4242 --to host2 --insecure --coordinator 127.0.0.1:" + c.port()));
            List<String> during = t.awaitText("... round", Duration.ofSeconds(60));
            assertTrue(during.get(lastNonEmpty(during)).matches("\\.\\.\\. round \\d running, \\d+\\.\\d s"),
                    "status line is the last row: " + String.join("\n", during));
            List<String> screen = t.awaitText("EXIT=", Duration.ofSeconds(60));
            String all = String.join("\n", screen);
            assertTrue(screen.contains("EXIT=0"), all);
            int header = indexOfPrefix(screen, "round  dirty pages", true);
            int phases = screen.indexOf("phases:");
            assertTrue(header > 0 && phases == header + 6, all);
            for (int i = 1; i <= 5; i++) {
                var m = FULL_ROW.matcher(screen.get(header + i));
                assertTrue(m.matches(), "garbled row " + i + ": '" + screen.get(header + i) + "'\n" + all);
                assertEquals(Integer.toString(i), m.group(1));
            }
            assertFalse(all.contains("..."), "the status line was erased, not left behind:\n" + all);
            assertTrue(screen.get(indexOfPrefix(screen, "done:", false)).startsWith("done: pid 4242 now runs on host2"), all);
        }
    }

    /** migrate ... > file from a terminal: stdin is the keyboard, stdout is not, so no status line in the file. */
    @Test
    void redirectedStdoutGetsPlainLines(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("watch.log");
        try (RecordedCoordinator c = new RecordedCoordinator(200); Tmux t = new Tmux()) {
            t.start(200, 40, migrate("4242 --to host2 --insecure --coordinator 127.0.0.1:" + c.port()) + " > " + file);
            List<String> screen = t.awaitText("EXIT=", Duration.ofSeconds(60));
            assertTrue(screen.contains("EXIT=0"), String.join("\n", screen));
            String written = Files.readString(file);
            PlainOutput.assertPlain(written);
            assertEquals(5, written.lines().filter(l -> FULL_ROW.matcher(l).matches()).count(), written);
        }
    }

    @Test
    void ctrlCAsksThenDetaches() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(1_000); Tmux t = new Tmux()) {
            t.start(200, 40, migrate("4242 --to host2 --insecure --coordinator 127.0.0.1:" + c.port()));
            t.awaitText("... round 2 running", Duration.ofSeconds(60));
            t.sendKeys("C-c");
            t.awaitText("Ctrl-C: [c]ancel migration m-0001", Duration.ofSeconds(30));
            t.sendKeys("d", "Enter");
            List<String> screen = t.awaitText("EXIT=", Duration.ofSeconds(30));
            String all = String.join("\n", screen);
            assertTrue(screen.contains("EXIT=0"), all);
            assertTrue(all.contains("detached from migration m-0001 (it goes on); re-attach with: migrate watch m-0001"), all);
        }
    }

    @Test
    void ctrlCAsksThenCancels() throws Exception {
        try (RecordedCoordinator c = new RecordedCoordinator(1_000); Tmux t = new Tmux()) {
            t.start(200, 40, migrate("4242 --to host2 --insecure --coordinator 127.0.0.1:" + c.port()));
            t.awaitText("... round 2 running", Duration.ofSeconds(60));
            t.sendKeys("C-c");
            t.awaitText("Ctrl-C: [c]ancel migration m-0001", Duration.ofSeconds(30));
            t.sendKeys("c", "Enter");
            List<String> screen = t.awaitText("EXIT=", Duration.ofSeconds(30));
            String all = String.join("\n", screen);
            assertTrue(screen.contains("EXIT=" + ExitCode.CANCELLED), all);
            assertTrue(all.contains("cancelled: cancelled by the operator"), all);
            assertTrue(all.contains("rolling_back"), "the rollback phase is shown: " + all);
        }
    }

    /** Not a terminal: nobody can answer, so Ctrl-C detaches and says how to re-attach. */
    @Test
    void ctrlCOnAPipeDetaches() throws Exception {
        // 3 s between recorded events: the Ctrl-C must land while the migration still runs, also
        // on a loaded CI machine where the JVM takes seconds to show round 1 (at 1 s the recording
        // had finished, exit 0 without the re-attach hint).
        try (RecordedCoordinator c = new RecordedCoordinator(3_000)) {
            // env --default-signal=INT: a CI job started in the background inherits SIGINT
            // ignored (POSIX), and a JVM leaves an ignored SIGINT ignored: Ctrl-C would never arrive.
            List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT"));
            cmd.addAll(List.of(migrate("4242 --to host2 --insecure --coordinator 127.0.0.1:" + c.port()).split(" ")));
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            long firstOutputMillis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(first.startsWith("starting migration of pid 4242"), first);
            String line;
            while ((line = out.readLine()) != null && !line.matches("^\\s+1 .*")) {
                // until round 1 is shown
            }
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits after Ctrl-C");
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(ExitCode.DONE, p.exitValue(), err);
            assertTrue(err.contains("re-attach with: migrate watch m-0001"), err);
            System.out.println("time to first output (JVM start to first line, test classpath): " + firstOutputMillis + " ms");
        }
    }

    private static int lastNonEmpty(List<String> screen) {
        for (int i = screen.size() - 1; i >= 0; i--) {
            if (!screen.get(i).isBlank()) {
                return i;
            }
        }
        return -1;
    }

    private static int indexOfPrefix(List<String> screen, String prefix, boolean trim) {
        for (int i = 0; i < screen.size(); i++) {
            if ((trim ? screen.get(i).trim() : screen.get(i)).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
