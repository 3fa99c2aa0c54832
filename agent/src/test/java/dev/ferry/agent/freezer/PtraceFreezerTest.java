package dev.ferry.agent.freezer;

import static dev.ferry.agent.freezer.SignalFreezerTest.await;
import static dev.ferry.agent.freezer.SignalFreezerTest.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.LinuxLibc;
import dev.ferry.agent.memory.ProcessStat;
import dev.ferry.agent.tracking.CapturedRound;
import dev.ferry.agent.tracking.PageChild;
import dev.ferry.agent.tracking.SoftDirtySession;
import dev.ferry.agent.tracking.TrackerSettings;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ptrace seize/interrupt freezing of real multi-threaded processes that are not this JVM's children. */
class PtraceFreezerTest {
  private final PtraceFreezer freezer = new PtraceFreezer();

  @Test
  void aChildOfThisJvmIsUnsupportedNamingWhy() throws Exception {
    try (PageChild child = PageChild.start(16)) {
      PtraceFreezer.Support s = PtraceFreezer.support(List.of(child.pid()));
      assertFalse(s.available());
      assertTrue(s.detail().contains("child of the agent"), s.detail());
      assertTrue(Freezers.forTree(List.of(child.pid())) instanceof SignalFreezer);
    }
  }

  @Test
  void everyThreadStopsInATraceStopAndResumes() throws Exception {
    try (PageChild child = PageChild.startGrandchild(64)) {
      int pid = child.pid();
      assertTrue(PtraceFreezer.support(List.of(pid)).available(), PtraceFreezer.support(List.of(pid)).detail());
      child.startStress(3); // a second thread, running flat out
      try (FrozenTree frozen = freezer.freeze(List.of(pid), Duration.ofSeconds(5))) {
        assertEquals(TaskStates.Stopped.ALL, state(pid));
        assertEquals('t', ProcessStat.of(pid).state(), "a trace stop, not a group stop the parent could see");
        assertEquals(List.of(pid), frozen.pids());
      }
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL, "the process runs again");
      long afterThaw = child.writes();
      await(() -> {
        try {
          return child.writes() > afterThaw;
        } catch (java.io.IOException e) {
          return false;
        }
      }, "the writer thread survived the freeze and runs");
      child.stopStress();
    }
  }

  @Test
  void aProcessStoppedBeforeStaysStopped() throws Exception {
    try (PageChild child = PageChild.startGrandchild(16)) {
      int pid = child.pid();
      assertEquals(0, LinuxLibc.kill(pid, LinuxLibc.SIGSTOP));
      await(() -> state(pid) == TaskStates.Stopped.ALL, "the process is stopped");
      try (FrozenTree frozen = freezer.freeze(List.of(pid), Duration.ofSeconds(5))) {
        assertEquals(TaskStates.Stopped.ALL, state(pid));
      }
      await(() -> {
        try {
          return ProcessStat.of(pid).state() == 'T';
        } catch (java.io.IOException e) {
          return false;
        }
      }, "back in its own group stop after the detach");
      assertEquals(0, LinuxLibc.kill(pid, LinuxLibc.SIGCONT));
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL, "the process runs after SIGCONT");
    }
  }

  @Test
  void aRoundFreezesWithPtraceWhereUsable() throws Exception {
    try (PageChild child = PageChild.startGrandchild(256);
        SoftDirtySession s = new SoftDirtySession(child.pid(), TrackerSettings.defaults(), "test")) {
      CapturedRound r = s.capture();
      assertEquals("ptrace", s.lastBreakdown().freezer(), s.lastBreakdown().toString());
      assertTrue(r.freezeWindow().toNanos() > 0);
      int pid = child.pid();
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL || sleeping(pid), "the process is not stopped after the round");
      child.write(List.of(1, 2)); // and answers
    }
  }

  private static boolean sleeping(int pid) {
    try {
      char c = ProcessStat.of(pid).state();
      return c == 'S' || c == 'R';
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
