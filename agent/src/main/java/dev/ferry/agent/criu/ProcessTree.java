package dev.ferry.agent.criu;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Signals for a process tree that CRIU left stopped, addressed by identity (pid plus start time)
 * so a recycled pid is never signalled. Reads /proc; sends signals through libc kill(2).
 * Stateless: safe from any thread.
 */
public final class ProcessTree {
  static final int SIGKILL = 9;
  static final int SIGCONT = 18;

  private interface LibC extends Library {
    int kill(int pid, int sig);
  }

  private final LibC libc = Native.load("c", LibC.class);

  public ProcessTree() {
    // Walks the resume path once on ourselves (kill with signal 0 only checks): JNA's call setup
    // and the /proc parsing code are then loaded and linked now, not at the first resume after a
    // switch-over, where they cost 1-3 s of downtime in the emulated lab.
    int self = (int) ProcessHandle.current().pid();
    identify(self).ifPresent(this::alive);
    for (int pid : tree(self)) {
      state(pid);
    }
    libc.kill(self, 0);
  }

  /** A process as identified by its pid and its start time in clock ticks since boot. */
  public record Identity(int pid, long startTicks) {}

  /** The identity of {@code pid} now, empty if there is no such process. */
  public Optional<Identity> identify(int pid) {
    return stat(pid).map(s -> new Identity(pid, Long.parseLong(s.get(19))));
  }

  /** The state letter of /proc/PID/stat (R, S, T, t, Z...), empty if the process is gone. */
  public Optional<String> state(int pid) {
    return stat(pid).map(s -> s.get(0));
  }

  /** Whether the process is still the one identified (same pid, same start time, not a zombie). */
  public boolean alive(Identity id) {
    return identify(id.pid()).filter(id::equals).isPresent() && !"Z".equals(state(id.pid()).orElse("Z"));
  }

  /** {@code root} and all its descendants, parents before children. */
  public List<Integer> tree(int root) {
    List<Integer> out = new ArrayList<>();
    collect(root, out);
    return out;
  }

  /** Sends SIGCONT to every process of the tree; returns how many were stopped before. */
  public int resume(Identity root) {
    if (!alive(root)) {
      return 0;
    }
    int stopped = 0;
    for (int pid : tree(root.pid())) {
      String s = state(pid).orElse("");
      if (s.equals("T") || s.equals("t")) {
        stopped++;
      }
      libc.kill(pid, SIGCONT);
    }
    return stopped;
  }

  /**
   * Kills the tree (SIGKILL to the root; for the init of a pid namespace the kernel kills the whole
   * namespace), children first otherwise. Returns false if the process was already gone.
   */
  public boolean kill(Identity root) {
    if (!alive(root)) {
      return false;
    }
    List<Integer> pids = tree(root.pid());
    for (int i = pids.size() - 1; i >= 0; i--) {
      libc.kill(pids.get(i), SIGKILL);
    }
    return true;
  }

  private void collect(int pid, List<Integer> out) {
    out.add(pid);
    Path tasks = Path.of("/proc", Integer.toString(pid), "task");
    try (var ts = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) ts::iterator) {
        String children = Files.readString(t.resolve("children")).strip();
        if (!children.isEmpty()) {
          for (String c : children.split("\\s+")) {
            collect(Integer.parseInt(c), out);
          }
        }
      }
    } catch (IOException e) {
      // the process exited meanwhile: nothing below it
    }
  }

  /** Fields of /proc/PID/stat after the command name: index 0 is the state (field 3). */
  private static Optional<List<String>> stat(int pid) {
    try {
      String s = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      String rest = s.substring(s.lastIndexOf(')') + 2);
      return Optional.of(List.of(rest.split(" ")));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The pid CRIU names images after: the last NSpid entry of /proc/PID/status. */
  public static Optional<Integer> innermostPid(int pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
        if (line.startsWith("NSpid:")) {
          String[] f = line.substring(6).strip().split("\\s+");
          return Optional.of(Integer.parseInt(f[f.length - 1]));
        }
      }
      return Optional.of(pid);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
