package dev.ferry.agent.criu;

import dev.ferry.testkit.Await;
import dev.ferry.testkit.LabEnvironment;
import dev.ferry.testkit.MemtouchBinary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * ferry-memtouch started through {@link MigratableLauncher} (own pid namespace and session), for
 * the lab tests of this package. Its OK lines carry a counter; a CORRUPT line fails any wait.
 */
final class LabWorkload implements AutoCloseable {
  private final MigratableLauncher.Launched launched;
  private final Path out;

  private LabWorkload(MigratableLauncher.Launched launched, Path out) {
    this.launched = launched;
    this.out = out;
  }

  static Duration scaled(Duration d) {
    return LabEnvironment.scaled(d);
  }

  /** The memtouch binary: -Dferry.memtouch, else the testkit's (compiled once per source version). */
  static Path binary() {
    String given = System.getProperty("ferry.memtouch", "");
    return given.isBlank() ? MemtouchBinary.locate().executable() : Path.of(given);
  }

  static LabWorkload start(Path workDir, int mib, int ratePagesPerSecond) throws IOException, InterruptedException {
    Files.createDirectories(workDir);
    Path out = workDir.resolve("memtouch.out");
    MigratableLauncher.Launched l = new MigratableLauncher(scaled(Duration.ofSeconds(10))).launch(List.of(
        binary().toString(), "--out", out.toString(), "--size-mib", Integer.toString(mib),
        "--rate", Integer.toString(ratePagesPerSecond), "--verify-ms", "1000"), workDir.resolve("launcher.log"));
    LabWorkload w = new LabWorkload(l, out);
    w.awaitOkBeyond(0, Duration.ofSeconds(60));
    return w;
  }

  /**
   * The growing workload (test resource {@code growing-workload.py}, under /usr/bin/python3): maps
   * a new block every 20 ms and unmaps old ones, checking its blocks; same OK/CORRUPT lines.
   */
  static LabWorkload startGrowing(Path workDir) throws IOException, InterruptedException {
    Files.createDirectories(workDir);
    Path script = workDir.resolve("growing-workload.py");
    try (var in = LabWorkload.class.getResourceAsStream("/growing-workload.py")) {
      Files.copy(java.util.Objects.requireNonNull(in, "growing-workload.py on the test class path"), script,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Path out = workDir.resolve("growing.out");
    MigratableLauncher.Launched l = new MigratableLauncher(scaled(Duration.ofSeconds(10))).launch(List.of(
        "/usr/bin/python3", script.toString(), out.toString()), workDir.resolve("launcher.log"));
    LabWorkload w = new LabWorkload(l, out);
    w.awaitOkBeyond(0, Duration.ofSeconds(60));
    return w;
  }

  /** Sends SIGUSR1 (the growing workload drops its private file page) and waits for its DROPPED line ({@code deadline} unscaled). */
  void dropPrivatePage(Duration deadline) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-USR1", Integer.toString(pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new AssertionError("kill -USR1 " + pid() + " failed");
    }
    Await.until("a DROPPED line in " + out, () -> read(out).contains("DROPPED"), deadline);
  }

  int pid() {
    return launched.pid();
  }

  /** Counter of the last OK line (0 if none); throws on a CORRUPT line. */
  long lastOkCounter() throws IOException {
    long last = 0;
    if (!Files.exists(out)) {
      return 0;
    }
    for (String line : Files.readAllLines(out)) {
      if (line.startsWith("CORRUPT")) {
        throw new AssertionError("memtouch reported corruption: " + line);
      }
      if (line.startsWith("OK ")) {
        for (String kv : line.split(" ")) {
          if (kv.startsWith("counter=")) {
            last = Long.parseLong(kv.substring(8));
          }
        }
      }
    }
    return last;
  }

  /** Waits until an OK line's counter exceeds {@code counter} ({@code deadline} unscaled: {@link Await} scales it); returns that counter. */
  long awaitOkBeyond(long counter, Duration deadline) throws IOException, InterruptedException {
    Await.until("an OK line beyond counter " + counter + " in " + out, () -> {
      try {
        return lastOkCounter() > counter;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, deadline);
    return lastOkCounter();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    launched.close();
  }
}
