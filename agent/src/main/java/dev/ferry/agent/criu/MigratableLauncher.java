package dev.ferry.agent.criu;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a command so that CRIU can migrate it, even between two agents on one kernel:
 * <pre>
 *   unshare --pid --fork setsid COMMAND...      stdin /dev/null, stdout+stderr to a log file
 * </pre>
 * <ul>
 *   <li>its own pid namespace, of which it is the init: CRIU restores pids as they were, and the
 *       stopped source copy still holds its pid until the commit; a restored namespace init gets a
 *       new outer pid while keeping pid 1 inside, so the restore does not collide. Dump the
 *       <em>outer</em> pid of that init ({@link Launched#pid()});</li>
 *   <li>its own session, no controlling terminal (no --shell-job); {@code setsid unshare ...}
 *       would fail: the session leader must be inside the namespace;</li>
 *   <li>no pipes to the launcher (CRIU cannot dump a pipe whose other end is outside the tree):
 *       output goes to a file;</li>
 *   <li>no new mount namespace (no --mount-proc): CRIU would then have to dump mounts too; /proc
 *       shows outer pids, which a workload that does not read /proc does not notice.</li>
 * </ul>
 * The {@code unshare} process stays as the parent of the namespace init until the source copy is
 * killed; it reaps it and exits.
 */
public final class MigratableLauncher {
  private final Duration startDeadline;

  public MigratableLauncher(Duration startDeadline) {
    this.startDeadline = startDeadline;
  }

  /** A started tree. Closing it kills the original copy (not a restored one elsewhere). */
  public static final class Launched implements AutoCloseable {
    private final Process unshare;
    private final int pid;

    Launched(Process unshare, int pid) {
      this.unshare = unshare;
      this.pid = pid;
    }

    /** Outer pid of the namespace init: the pid to track and to dump. */
    public int pid() {
      return pid;
    }

    /** The unshare launcher, parent of {@link #pid()}. */
    public Process launcher() {
      return unshare;
    }

    @Override
    public void close() {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      unshare.destroyForcibly();
      try {
        unshare.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The full command line used for {@code command}. */
  public static List<String> commandLine(List<String> command) {
    List<String> c = new ArrayList<>(List.of("unshare", "--pid", "--fork", "setsid"));
    c.addAll(command);
    return c;
  }

  /**
   * Starts {@code command}; returns once the namespace init exists (not once the workload is
   * ready: await its own signal of readiness).
   */
  public Launched launch(List<String> command, Path log) throws IOException, InterruptedException {
    Process unshare = new ProcessBuilder(commandLine(command))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    long deadline = System.nanoTime() + startDeadline.toNanos();
    Path children = Path.of("/proc", Long.toString(unshare.pid()), "task", Long.toString(unshare.pid()), "children");
    while (System.nanoTime() < deadline) {
      String c = readOrEmpty(children);
      if (!c.isEmpty()) {
        return new Launched(unshare, Integer.parseInt(c.split("\\s+")[0]));
      }
      if (!unshare.isAlive()) {
        throw new IOException("unshare exited " + unshare.exitValue() + " before its child started: " + CriuCommand.tail(log));
      }
      Thread.sleep(10); // polling /proc: the kernel gives no event when unshare forks its child
    }
    unshare.destroyForcibly();
    throw new IOException("no namespace init under unshare " + unshare.pid() + " within " + startDeadline.toMillis() + " ms");
  }

  private static String readOrEmpty(Path p) {
    try {
      return Files.readString(p).strip();
    } catch (IOException e) {
      return "";
    }
  }
}
