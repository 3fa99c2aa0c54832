package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.ProcessInspection;
import org.junit.jupiter.api.Test;

/** Inspection of a real process tree agrees with what a full round copies. */
class ProcessInspectionTest {

  @Test
  void inspectionMatchesAFullRound() throws Exception {
    try (PageChild child = PageChild.start(300)) {
      int grandchild = child.fork();
      child.startStress(5);
      ProcessInspection info = ProcessInspection.of(child.pid());
      child.stopStress();
      assertEquals(java.util.List.of(child.pid(), grandchild), info.tree());
      assertTrue(info.threads() >= 1);
      assertEquals("pagechild", info.command());
      try (PrecopySession s = new ContentHashSession(child.pid(), TrackerSettings.defaults(), "test")) {
        CopyFigures f = s.capture().copy(new MemoryImage());
        ProcessInspection again = ProcessInspection.of(child.pid());
        assertEquals(again.copyableBytes(), f.totalPages() * 4096, "inspection and a full round count the same pages");
        assertTrue(again.copyableBytes() >= 2L * 300 * 4096, "both regions: " + again.copyableBytes());
      }
    }
  }
}
