package dev.ferry.cli.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.cli.ExitCode;
import dev.ferry.cli.CliRun;
import dev.ferry.testkit.MemtouchLine;
import dev.ferry.testkit.Workload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The steps the end-to-end switch-over lab tests share: the CLI's own entry point against a
 * coordinator, the memtouch workload in its own pid namespace, and the checks that a workload
 * runs as exactly one copy and keeps verifying its memory.
 */
final class E2eSteps {
  static final Pattern DONE = Pattern.compile("done: pid (\\d+) now runs on host\\d as pid (\\d+)");
  static final Pattern DOWNTIME = Pattern.compile("(?m)^downtime ([\\d.]+ ?\\w+)");
  static final Pattern ROW = Pattern.compile("^\\s+(\\d+)\\s+([\\d,]+)\\s+.*");
  private static final Pattern STARTED = Pattern.compile("started migration (\\S+) ");

  private E2eSteps() {}

  /** A captured CLI run with the views the end-to-end tests read. */
  static final class Run extends CliRun {
    Run(CliRun run) {
      super(run);
    }

    /** Output and errors as one text (plain lines: the capture refuses a CR or escape). */
    String text() {
      return out() + err();
    }

    /** The id a {@code --detach} start printed. */
    String migrationId() {
      Matcher id = STARTED.matcher(out());
      assertTrue(id.find(), toString());
      return id.group(1);
    }

    long rounds() {
      return outLines(ROW).size();
    }
  }

  /** bin/migrate's main (MigrateCommand) in this JVM, plaintext, against {@code coordinator}. */
  static Run migrate(String coordinator, String... args) {
    // --insecure: TLS is the subject of MutualTlsPathTest; here every JVM start counts
    return new Run(CliRun.of(CliRun.plus(args, "--coordinator", coordinator, "--insecure")));
  }

  static Workload workload(Path dir, String name, long mib, long rate) {
    return workload(dir, name, mib, rate, List.of());
  }

  /** The same, started through {@code enter} (e.g. a lab host's {@code nsenter --net=...}). */
  static Workload workload(Path dir, String name, long mib, long rate, List<String> enter) {
    return Workload.memtouch().sizeMib(mib).ratePagesPerSecond(rate).verifyInterval(Duration.ofMillis(500))
        .ownPidNamespace(true).enteredThrough(enter).workDir(dir.resolve(name)).start();
  }

  /**
   * The workload runs as exactly {@code pid} (not stopped), verifies its memory on beyond its last
   * OK line, and never reported corruption. Returns the new OK line.
   */
  static MemtouchLine assertRunsAloneAs(Workload w, long pid) throws InterruptedException {
    dev.ferry.testkit.Await.until("pid " + pid + " running (not stopped)", () -> alive(pid) && state(pid) != 'T',
        Duration.ofSeconds(10));
    long before = w.lastOk().orElseThrow().counter();
    MemtouchLine after = w.awaitOkBeyond(before, Duration.ofSeconds(60));
    w.assertNoCorruption();
    assertEquals(List.of(pid), runningCopies(w), "exactly one running copy of the workload");
    return after;
  }

  /** After a failed or cancelled migration: the exit code, and the source alone runs on. */
  static void assertRolledBack(Run r, int expectedCode, Workload w, long pid) throws InterruptedException {
    assertEquals(expectedCode, r.code(), r.toString());
    assertTrue(alive(pid), "source alive");
    assertRunsAloneAs(w, pid);
  }

  static int failedRolledBack() {
    return ExitCode.FAILED_ROLLED_BACK;
  }

  static boolean alive(long pid) {
    char s = state(pid);
    return s != 0 && s != 'Z' && s != 'X';
  }

  /** State letter of /proc/PID/stat, 0 when there is no such process. */
  static char state(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (IOException e) {
      return 0;
    }
  }

  static int tracerPid(long pid) {
    try {
      return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("TracerPid:"))
          .map(l -> Integer.parseInt(l.substring(10).strip())).findFirst().orElse(0);
    } catch (IOException e) {
      return 0;
    }
  }

  /** Outer pids of memtouch processes writing this workload's output file that are running (not stopped). */
  static List<Long> runningCopies(Workload w) {
    return copies(w).stream().filter(p -> state(p) != 'T' && state(p) != 't').toList();
  }

  /**
   * Outer pids of live memtouch processes of this workload, stopped ones included: named
   * ferry-memtouch ({@code /proc/PID/comm}) with the workload's work dir as their cwd. Neither
   * reads the process's memory, as {@code /proc/PID/cmdline} does: a copy CRIU restored with
   * {@code --lazy-pages} may still miss the page holding its argv (the lazy-pages daemon copies
   * it later), and then its cmdline cannot be read at all. The launchers (unshare, nsenter) have
   * the same cwd but their own names.
   */
  static List<Long> copies(Workload w) {
    Path workDir = realPath(w.workDir());
    return ProcessHandle.allProcesses()
        .map(ProcessHandle::pid)
        .filter(p -> isMemtouch(p) && cwd(p).map(workDir::equals).orElse(false))
        .filter(E2eSteps::alive)
        .distinct().sorted().toList();
  }

  private static boolean isMemtouch(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/comm")).strip().equals("ferry-memtouch");
    } catch (IOException e) {
      return false;
    }
  }

  private static Optional<Path> cwd(long pid) {
    try {
      return Optional.of(Files.readSymbolicLink(Path.of("/proc/" + pid + "/cwd")));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Path realPath(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p.toAbsolutePath();
    }
  }

  static Optional<String> cmdline(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
      return Optional.of(new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Kills stopped memtouch copies working under {@code dir} a failed test may leave (see {@link #copies}). */
  static void killStoppedCopies(Path dir) {
    Path under = realPath(dir);
    ProcessHandle.allProcesses().filter(p -> isMemtouch(p.pid()) && cwd(p.pid()).map(c -> c.startsWith(under)).orElse(false))
        .filter(p -> state(p.pid()) == 'T').forEach(p -> {
          System.out.println("E2E killing a stopped leftover copy " + p.pid() + ": " + cmdline(p.pid()).orElse(""));
          p.destroyForcibly();
        });
  }
}
