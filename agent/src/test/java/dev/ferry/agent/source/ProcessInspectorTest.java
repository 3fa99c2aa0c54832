package dev.ferry.agent.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.tracking.ContentHashSession;
import dev.ferry.agent.tracking.CopyFigures;
import dev.ferry.agent.tracking.MemoryImage;
import dev.ferry.agent.tracking.PageChild;
import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.TrackerSettings;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.proto.ProcessInfo;
import org.junit.jupiter.api.Test;

/** InspectProcess's figures are what a full first round of a real process copies, not virtual sizes. */
class ProcessInspectorTest {

  @Test
  void copyableBytesAreWhatAFullRoundCopies() throws Exception {
    try (PageChild child = PageChild.start(300)) {
      ProcessInfo info = new ProcessInspector().inspect(child.pid());
      assertEquals("pagechild", info.getCommand());
      assertEquals(child.pid(), info.getTree(0));
      assertTrue(info.getThreads() >= 1 && info.getAreas() > 0, info.toString());
      try (PrecopySession s = new ContentHashSession(child.pid(), TrackerSettings.defaults(), "test")) {
        CopyFigures f = s.capture().copy(new MemoryImage());
        assertEquals(f.totalPages() * 4096, info.getCopyableBytes(), "the child is idle: inspection and round agree");
      }
    }
  }

  @Test
  void aKernelThreadIsRefusedByName() {
    TrackingException e = assertThrows(TrackingException.class, () -> new ProcessInspector().inspect(2));
    assertEquals(TrackingException.Reason.KERNEL_THREAD, e.reason());
    assertTrue(e.getMessage().contains("kernel thread"), e.getMessage());
  }
}
