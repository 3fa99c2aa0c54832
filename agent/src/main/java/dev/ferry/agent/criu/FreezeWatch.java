package dev.ferry.agent.criu;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Notes when CRIU actually froze a process: {@code criu dump} spends its first seconds (exec,
 * kerndat cache, plugins, cgroup and vdso probing; ~1-3 s under the lab's emulation) before it
 * seizes the tree, and the process runs meanwhile. The switch-over's downtime starts at the
 * freeze, not at the criu exec; the gap before it is what widens the final dump.
 *
 * <p>Polls the state letter of {@code /proc/PID/stat} on its own daemon thread until it reads a
 * stopped state ('t' tracing stop: CRIU's PTRACE_SEIZE+INTERRUPT; 'T': SIGSTOP or a cgroup
 * freeze) or the process is gone, or until {@link #close}. Accuracy: one poll interval.
 * {@link #frozenAt} may be read from any thread.
 */
final class FreezeWatch implements AutoCloseable {
  private final Thread thread;
  private volatile Instant frozenAt;
  private volatile boolean stopped;

  private FreezeWatch(int pid, Duration interval, IntFunction<Optional<String>> state) {
    this.thread = new Thread(() -> poll(pid, interval, state), "freeze-watch-" + pid);
    thread.setDaemon(true);
  }

  /** Starts watching {@code pid} (which must be running now: a stopped one counts at once). */
  static FreezeWatch start(int pid, Duration interval, IntFunction<Optional<String>> state) {
    FreezeWatch w = new FreezeWatch(pid, interval, state);
    w.thread.start();
    return w;
  }

  /** Whether a state letter of /proc/PID/stat means the process does not run. */
  static boolean frozen(String state) {
    return state.equals("t") || state.equals("T");
  }

  private void poll(int pid, Duration interval, IntFunction<Optional<String>> state) {
    while (!stopped) {
      Optional<String> s = state.apply(pid);
      if (s.isEmpty()) {
        return; // gone: CRIU failed or the process exited; nothing to note
      }
      if (frozen(s.get())) {
        frozenAt = Instant.now();
        return;
      }
      try {
        Thread.sleep(interval.toMillis(), (int) (interval.toNanos() % 1_000_000));
      } catch (InterruptedException e) {
        return; // only close() interrupts this thread
      }
    }
  }

  /** When the process was first seen stopped; empty if it was not (yet). */
  Optional<Instant> frozenAt() {
    return Optional.ofNullable(frozenAt);
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
  }
}
