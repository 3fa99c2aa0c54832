package dev.ferry.agent.freezer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.ProcessStat;
import dev.ferry.agent.tracking.CapturedRound;
import dev.ferry.agent.tracking.PageChild;
import dev.ferry.agent.tracking.SoftDirtySession;
import dev.ferry.agent.tracking.TrackerSettings;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ptrace seize/interrupt freezing of real multi-threaded processes that are not this JVM's children. */
class PtraceFreezerTest extends FreezerContract {
  private final PtraceFreezer freezer = new PtraceFreezer();

  @Override
  Freezer freezer() {
    return freezer;
  }

  /** A grandchild: the JDK's reaper would take a child's ptrace stops for an exit. */
  @Override
  PageChild start(int pages) throws IOException, InterruptedException {
    PageChild child = PageChild.startGrandchild(pages);
    PtraceFreezer.Support s = PtraceFreezer.support(List.of(child.pid()));
    if (!s.available()) {
      child.close();
      throw new AssertionError("ptrace cannot hold the grandchild: " + s.detail());
    }
    return child;
  }

  @Override
  void assertHeld(int pid) throws IOException {
    assertEquals('t', ProcessStat.of(pid).state(), "a trace stop, not a group stop the parent could see");
  }

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
  void aRoundFreezesWithPtraceWhereUsable() throws Exception {
    try (PageChild child = PageChild.startGrandchild(256);
        SoftDirtySession s = new SoftDirtySession(child.pid(), TrackerSettings.defaults(), "test")) {
      CapturedRound r = s.capture();
      assertEquals("ptrace", s.lastBreakdown().freezer(), s.lastBreakdown().toString());
      assertTrue(r.freezeWindow().toNanos() > 0);
      int pid = child.pid();
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL || runningOrSleeping(pid), "the process is not stopped after the round");
      child.write(List.of(1, 2)); // and answers
    }
  }
}
