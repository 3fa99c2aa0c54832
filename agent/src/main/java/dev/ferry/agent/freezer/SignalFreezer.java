package dev.ferry.agent.freezer;

import dev.ferry.agent.memory.LinuxLibc;
import dev.ferry.agent.memory.ProcErrors;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.tracking.TrackingException.Reason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Freezes with SIGSTOP and waits until every /proc/PID/task/TID/stat shows T (or t); thaws with
 * SIGCONT, but only the processes it stopped itself: a process that was already stopped before
 * the round (by its operator, a debugger, a throttle) stays stopped afterwards.
 *
 * <p>SIGSTOP cannot be caught or ignored, and group-stop reaches every thread. Its side effect is
 * a SIGCHLD/wait notification to the parent (only with WUNTRACED); the ptrace seize/interrupt
 * route would avoid that but ties the stopped tasks to the one tracer thread.
 *
 * <p>Stateless and thread-safe; each {@link FrozenTree} is confined to its caller.
 */
public final class SignalFreezer implements Freezer {
  private static final Logger log = LoggerFactory.getLogger(SignalFreezer.class);

  @Override
  public String describe() {
    return "SIGSTOP";
  }

  @Override
  public FrozenTree freeze(List<Integer> pids, Duration timeout) throws TrackingException, InterruptedException {
    long t0 = System.nanoTime();
    List<Integer> stoppedByUs = new ArrayList<>();
    List<Integer> frozen = new ArrayList<>();
    boolean done = false;
    try {
      for (int i = 0; i < pids.size(); i++) {
        int pid = pids.get(i);
        TaskStates.Stopped before = TaskStates.check(pid, null);
        if (before == TaskStates.Stopped.GONE) {
          if (i == 0) {
            throw new TrackingException(Reason.PROCESS_EXITED, pid, "process " + pid + " exited before the freeze");
          }
          continue;
        }
        if (before == TaskStates.Stopped.NOT_ALL) {
          if (LinuxLibc.kill(pid, LinuxLibc.SIGSTOP) != 0) {
            int errno = LinuxLibc.errno();
            if (errno == LinuxLibc.ESRCH && i > 0) {
              continue;
            }
            throw ProcErrors.ofErrno(errno, pid, "SIGSTOP");
          }
          stoppedByUs.add(pid);
        }
        frozen.add(pid);
      }
      long deadline = t0 + timeout.toNanos();
      StringBuilder running = new StringBuilder();
      for (int i = 0; i < frozen.size(); ) {
        int pid = frozen.get(i);
        TaskStates.Stopped s = TaskStates.check(pid, running);
        if (s == TaskStates.Stopped.ALL) {
          i++;
        } else if (s == TaskStates.Stopped.GONE) {
          if (pid == pids.get(0)) {
            throw new TrackingException(Reason.PROCESS_EXITED, pid, "process " + pid + " exited during the freeze");
          }
          frozen.remove(i);
        } else {
          if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while freezing process " + pid);
          }
          if (System.nanoTime() > deadline) {
            throw new TrackingException(Reason.IO_ERROR, pid,
                "process " + pid + " did not stop within " + timeout.toMillis() + " ms: " + running);
          }
          LockSupport.parkNanos(20_000);
        }
      }
      done = true;
      List<Integer> toResume = List.copyOf(stoppedByUs);
      return new HeldTree(frozen, Duration.ofNanos(System.nanoTime() - t0), () -> resume(toResume));
    } finally {
      if (!done) {
        resume(stoppedByUs);
      }
    }
  }

  private static void resume(List<Integer> pids) {
    for (int pid : pids) {
      if (LinuxLibc.kill(pid, LinuxLibc.SIGCONT) != 0 && LinuxLibc.errno() != LinuxLibc.ESRCH) {
        log.error("could not resume process {} with SIGCONT (errno {}): it may stay stopped", pid, LinuxLibc.errno());
      }
    }
  }
}
