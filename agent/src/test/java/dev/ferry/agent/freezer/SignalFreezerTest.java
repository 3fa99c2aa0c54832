package dev.ferry.agent.freezer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.LinuxLibc;
import dev.ferry.agent.tracking.PageChild;
import dev.ferry.agent.tracking.TrackingException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** SIGSTOP freezing of real multi-threaded children. */
class SignalFreezerTest {
  private final SignalFreezer freezer = new SignalFreezer();

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      LockSupport.parkNanos(1_000_000);
    }
  }

  static TaskStates.Stopped state(int pid) {
    return TaskStates.check(pid, null);
  }

  @Test
  void everyThreadStopsAndResumes() throws Exception {
    try (PageChild child = PageChild.start(64)) {
      child.startStress(7); // a second thread, running flat out
      int pid = child.pid();
      try (FrozenTree frozen = freezer.freeze(List.of(pid), Duration.ofSeconds(5))) {
        assertEquals(TaskStates.Stopped.ALL, state(pid));
        assertEquals(List.of(pid), frozen.pids());
        assertTrue(frozen.stopLatency().toMillis() < 5000);
      }
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL, "the child runs again");
      long afterThaw = child.writes();
      await(() -> {
        try {
          return child.writes() > afterThaw;
        } catch (java.io.IOException e) {
          return false;
        }
      }, "the writer thread runs after the thaw");
      child.stopStress();
    }
  }

  @Test
  void aProcessStoppedBeforeStaysStopped() throws Exception {
    try (PageChild child = PageChild.start(16)) {
      int pid = child.pid();
      assertEquals(0, LinuxLibc.kill(pid, LinuxLibc.SIGSTOP));
      await(() -> state(pid) == TaskStates.Stopped.ALL, "the child is stopped");
      try (FrozenTree frozen = freezer.freeze(List.of(pid), Duration.ofSeconds(5))) {
        assertEquals(TaskStates.Stopped.ALL, state(pid));
      }
      assertEquals(TaskStates.Stopped.ALL, state(pid), "still stopped after the round");
      assertEquals(0, LinuxLibc.kill(pid, LinuxLibc.SIGCONT));
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL, "the child runs after SIGCONT");
    }
  }

  @Test
  void anExitedRootIsATypedError() throws Exception {
    PageChild child = PageChild.start(16);
    int pid = child.pid();
    child.close();
    TrackingException e = assertThrows(TrackingException.class, () -> freezer.freeze(List.of(pid), Duration.ofSeconds(1)));
    assertEquals(TrackingException.Reason.PROCESS_EXITED, e.reason());
  }

  @Test
  void anInterruptedFreezeResumesTheProcess() throws Exception {
    try (PageChild child = PageChild.start(16)) {
      int pid = child.pid();
      Thread.currentThread().interrupt();
      // the child stops fast, so the interrupt may or may not be seen; either way it must run after
      try (FrozenTree frozen = freezer.freeze(List.of(pid), Duration.ofSeconds(5))) {
        assertTrue(frozen.pids().contains(pid));
      } catch (InterruptedException expected) {
        // resumed in finally
      } finally {
        Thread.interrupted();
      }
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL || isSleeping(pid), "the child is not stopped");
    }
  }

  private static boolean isSleeping(int pid) {
    try {
      char s = dev.ferry.agent.memory.ProcessStat.of(pid).state();
      return s == 'S' || s == 'R';
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
