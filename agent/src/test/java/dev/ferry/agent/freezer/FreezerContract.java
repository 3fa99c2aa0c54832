package dev.ferry.agent.freezer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.LinuxLibc;
import dev.ferry.agent.memory.ProcessStat;
import dev.ferry.agent.tracking.PageChild;
import dev.ferry.testkit.Await;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * What the SIGSTOP and ptrace freezers both must do to a real multi-threaded process: stop every
 * thread, let it run again on close, and leave a process that was stopped before still stopped.
 * Subclasses say which freezer and which process it can hold (ptrace: not a child of this JVM).
 */
abstract class FreezerContract {
  abstract Freezer freezer();

  /** A process of {@code pages} pages that this freezer can hold. */
  abstract PageChild start(int pages) throws IOException, InterruptedException;

  /** What else holds while {@code pid} is frozen (e.g. the kind of stop). */
  void assertHeld(int pid) throws IOException {
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    Await.until(what, condition, Duration.ofSeconds(10));
  }

  static TaskStates.Stopped state(int pid) {
    return TaskStates.check(pid, null);
  }

  /** Running or sleeping, not stopped: a state a thawed process may be seen in. */
  static boolean runningOrSleeping(int pid) {
    try {
      char s = ProcessStat.of(pid).state();
      return s == 'S' || s == 'R';
    } catch (IOException e) {
      return false;
    }
  }

  static boolean inGroupStop(int pid) {
    try {
      return ProcessStat.of(pid).state() == 'T';
    } catch (IOException e) {
      return false;
    }
  }

  /** The child's stress thread writes again: it survived the freeze and runs. */
  static void awaitWritesAfter(PageChild child, long writes, String what) throws InterruptedException {
    await(() -> {
      try {
        return child.writes() > writes;
      } catch (IOException e) {
        return false;
      }
    }, what);
  }

  @Test
  void everyThreadStopsAndResumes() throws Exception {
    try (PageChild child = start(64)) {
      child.startStress(7); // a second thread, running flat out
      int pid = child.pid();
      try (FrozenTree frozen = freezer().freeze(List.of(pid), Duration.ofSeconds(5))) {
        assertEquals(TaskStates.Stopped.ALL, state(pid));
        assertHeld(pid);
        assertEquals(List.of(pid), frozen.pids());
        assertTrue(frozen.stopLatency().toMillis() < 5000);
      }
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL, "the process runs again");
      awaitWritesAfter(child, child.writes(), "the writer thread runs after the thaw");
      child.stopStress();
    }
  }

  @Test
  void aProcessStoppedBeforeStaysStopped() throws Exception {
    try (PageChild child = start(16)) {
      int pid = child.pid();
      assertEquals(0, LinuxLibc.kill(pid, LinuxLibc.SIGSTOP));
      await(() -> state(pid) == TaskStates.Stopped.ALL, "the process is stopped");
      try (FrozenTree frozen = freezer().freeze(List.of(pid), Duration.ofSeconds(5))) {
        assertEquals(TaskStates.Stopped.ALL, state(pid));
      }
      await(() -> inGroupStop(pid), "still in its own group stop after the round");
      assertEquals(0, LinuxLibc.kill(pid, LinuxLibc.SIGCONT));
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL, "the process runs after SIGCONT");
    }
  }
}
