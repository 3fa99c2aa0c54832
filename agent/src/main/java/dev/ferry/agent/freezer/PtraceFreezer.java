package dev.ferry.agent.freezer;

import dev.ferry.agent.memory.LinuxLibc;
import dev.ferry.agent.memory.ProcErrors;
import dev.ferry.agent.memory.ProcessStat;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.tracking.TrackingException.Reason;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Freezes with PTRACE_SEIZE + PTRACE_INTERRUPT on every thread and thaws with PTRACE_DETACH.
 * Unlike SIGSTOP it is not observable by the process's parent (no SIGCHLD/CLD_STOPPED, nothing
 * for waitpid(WUNTRACED) or a job-control shell to report), a stop-state the process set itself
 * is left alone, and if the agent dies mid-round the kernel detaches and resumes the threads (a
 * SIGSTOP left behind by a dead agent would stop the process for good).
 *
 * <p>Not usable ({@link #support}) for a child of this JVM: the JDK's process reaper thread waits
 * for its children and would take a ptrace stop for an exit; nor for a process already traced.
 *
 * <p>Thread confinement: ptrace requests on a tracee must come from the thread that seized it, so
 * {@link FrozenTree#close()} must run on the thread that called {@link #freeze} (a
 * try-with-resources in one method, as a round does).
 */
public final class PtraceFreezer implements Freezer {
  private static final Logger log = LoggerFactory.getLogger(PtraceFreezer.class);

  /** Whether this freezer can hold a tree: a typed answer with the reason. */
  public record Support(boolean available, String detail) {}

  /** Whether {@code pids} can be frozen with ptrace from this JVM. */
  public static Support support(List<Integer> pids) {
    long self = ProcessHandle.current().pid();
    for (int pid : pids) {
      try {
        ProcessStat stat = ProcessStat.of(pid);
        if (stat.parentPid() == self) {
          return new Support(false, "process " + pid + " is a child of the agent (the JDK's reaper would take its ptrace stops for an exit)");
        }
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
          if (line.startsWith("TracerPid:") && !line.substring(10).trim().equals("0")) {
            return new Support(false, "process " + pid + " is already traced by " + line.substring(10).trim());
          }
        }
      } catch (IOException e) {
        return new Support(false, "cannot read /proc/" + pid + ": " + e.getMessage());
      }
    }
    return new Support(true, "ptrace seize/interrupt");
  }

  @Override
  public String describe() {
    return "ptrace";
  }

  @Override
  public FrozenTree freeze(List<Integer> pids, Duration timeout) throws TrackingException, InterruptedException {
    long t0 = System.nanoTime();
    Thread tracer = Thread.currentThread();
    List<Integer> seized = new ArrayList<>();
    List<Integer> frozen = new ArrayList<>();
    boolean done = false;
    try {
      for (int i = 0; i < pids.size(); i++) {
        int pid = pids.get(i);
        if (!seizeAllThreads(pid, seized)) {
          if (i == 0) {
            throw new TrackingException(Reason.PROCESS_EXITED, pid, "process " + pid + " exited before the freeze");
          }
          continue;
        }
        frozen.add(pid);
      }
      long deadline = t0 + timeout.toNanos();
      for (int tid : seized) {
        while (!stoppedOrGone(tid)) {
          if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while freezing thread " + tid);
          }
          if (System.nanoTime() > deadline) {
            throw new TrackingException(Reason.IO_ERROR, tid, "thread " + tid + " did not stop within " + timeout.toMillis() + " ms");
          }
          LockSupport.parkNanos(20_000);
        }
      }
      done = true;
      List<Integer> tids = List.copyOf(seized);
      return new HeldTree(frozen, Duration.ofNanos(System.nanoTime() - t0), () -> detachOnTracer(tracer, tids));
    } finally {
      if (!done) {
        detach(seized, true);
      }
    }
  }

  /**
   * Seizes and interrupts every thread of {@code pid}, again until no new thread appears (a
   * running thread may create one while its siblings are being seized). False when the process
   * is gone.
   */
  private static boolean seizeAllThreads(int pid, List<Integer> seized) throws TrackingException {
    Set<Integer> mine = new LinkedHashSet<>();
    while (true) {
      List<Integer> tids = tasks(pid);
      if (tids == null) {
        return !mine.isEmpty();
      }
      boolean fresh = false;
      for (int tid : tids) {
        if (mine.contains(tid)) {
          continue;
        }
        if (LinuxLibc.ptrace(LinuxLibc.PTRACE_SEIZE, tid, 0, 0) != 0) {
          int errno = LinuxLibc.errno();
          if (errno == LinuxLibc.ESRCH) {
            continue; // the thread exited meanwhile
          }
          throw ProcErrors.ofErrno(errno, pid, "ptrace-seize thread " + tid + " of");
        }
        mine.add(tid);
        seized.add(tid);
        fresh = true;
        if (LinuxLibc.ptrace(LinuxLibc.PTRACE_INTERRUPT, tid, 0, 0) != 0 && LinuxLibc.errno() != LinuxLibc.ESRCH) {
          throw ProcErrors.ofErrno(LinuxLibc.errno(), pid, "ptrace-interrupt thread " + tid + " of");
        }
      }
      if (!fresh) {
        return !mine.isEmpty();
      }
    }
  }

  private static List<Integer> tasks(int pid) {
    List<Integer> out = new ArrayList<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc", Integer.toString(pid), "task"))) {
      for (Path p : dir) {
        out.add(Integer.parseInt(p.getFileName().toString()));
      }
    } catch (IOException | RuntimeException gone) {
      return null;
    }
    return out;
  }

  private static boolean stoppedOrGone(int tid) {
    try {
      ProcessStat s = ProcessStat.read(Path.of("/proc", Integer.toString(tid), "stat"));
      return s.stopped() || s.zombie();
    } catch (NoSuchFileException gone) {
      return true;
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * Detaches every seized thread. PTRACE_DETACH needs the thread in its ptrace stop: on a failure
   * path a thread may still be on its way there, so detaching waits a little for it.
   */
  private static void detach(List<Integer> tids, boolean waitForStops) {
    for (int tid : tids) {
      long deadline = System.nanoTime() + (waitForStops ? Duration.ofSeconds(2).toNanos() : 0);
      while (LinuxLibc.ptrace(LinuxLibc.PTRACE_DETACH, tid, 0, 0) != 0) {
        int errno = LinuxLibc.errno();
        boolean exists = Files.exists(Path.of("/proc", Integer.toString(tid)));
        if (errno != LinuxLibc.ESRCH || !exists) {
          if (exists) {
            log.error("could not detach thread {} (errno {}): it stays stopped until this agent thread exits", tid, errno);
          }
          break;
        }
        if (System.nanoTime() > deadline) {
          log.error("thread {} never reached its ptrace stop: it stays traced until this agent thread exits", tid);
          break;
        }
        LockSupport.parkNanos(100_000);
      }
    }
  }

  /** The thaw: ptrace requests only work from the thread that seized the tracees. */
  private static void detachOnTracer(Thread tracer, List<Integer> tids) {
    if (Thread.currentThread() != tracer) {
      log.error("ptrace freeze closed on thread {} but taken on {}: the kernel refuses the detach",
          Thread.currentThread().getName(), tracer.getName());
    }
    detach(tids, true);
  }
}
