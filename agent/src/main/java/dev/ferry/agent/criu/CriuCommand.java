package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the criu executable: one command at a time per call, with a deadline, its log in a file,
 * its output captured to a file (never a pipe the agent must drain). Thread-safe (no state but
 * configuration).
 *
 * @param executable the criu binary (e.g. /usr/sbin/criu or "criu" found on PATH)
 * @param logLevel CRIU's -v level (2: errors and warnings; 4: debug, slow on big dumps)
 */
public record CriuCommand(Path executable, int logLevel) {
  /** How many log lines a failure carries. */
  static final int LOG_TAIL_LINES = 15;

  public static CriuCommand onPath() {
    return new CriuCommand(Path.of("criu"), 2);
  }

  /** What one run produced. */
  public record Run(int exitCode, Duration elapsed, String output) {}

  /**
   * Runs criu with {@code args} in {@code workDir}; output (stdout+stderr) goes to
   * {@code workDir/<name>.out}. A run over {@code deadline} is killed: TIMED_OUT.
   */
  Run run(List<String> args, Path workDir, String name, Duration deadline) throws CriuFailure, InterruptedException {
    long started = System.nanoTime();
    return await(start(args, workDir, name), args.get(0), workDir, name, deadline, started);
  }

  /**
   * Waits for a criu started by {@link #start} (at {@code startedNanos}, System.nanoTime) to exit;
   * one over {@code deadline} (counted from now) is killed: TIMED_OUT. Interrupted: killed.
   */
  Run await(Process p, String verb, Path workDir, String name, Duration deadline, long startedNanos)
      throws CriuFailure, InterruptedException {
    Path output = workDir.resolve(name + ".out");
    try {
      if (!p.waitFor(deadline.toNanos(), TimeUnit.NANOSECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        throw new CriuFailure(CriuFailure.Reason.TIMED_OUT,
            "criu " + verb + " did not finish within " + deadline.toMillis() + " ms and was killed",
            tail(output));
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      throw e;
    }
    return new Run(p.exitValue(), Duration.ofNanos(System.nanoTime() - startedNanos), read(output));
  }

  /**
   * Starts criu with {@code args} in {@code workDir} without waiting (a daemon such as
   * {@code criu lazy-pages}); output goes to {@code workDir/<name>.out}. The caller owns the process.
   */
  Process start(List<String> args, Path workDir, String name) throws CriuFailure {
    List<String> command = new ArrayList<>();
    command.add(executable.toString());
    command.addAll(args);
    try {
      return new ProcessBuilder(command)
          .directory(workDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(workDir.resolve(name + ".out").toFile())
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .start();
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.MISSING, "cannot run " + executable + ": " + e.getMessage(), e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** The last lines of a log file (or "" if there is none). */
  static String tail(Path file) {
    String text = read(file);
    String[] lines = text.split("\n");
    int from = Math.max(0, lines.length - LOG_TAIL_LINES);
    return String.join("\n", java.util.Arrays.asList(lines).subList(from, lines.length)).strip();
  }
}
