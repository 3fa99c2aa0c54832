package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.TrackerKind;
import org.junit.jupiter.api.Test;

/** The content-hash tracker against real processes (runs on any kernel). */
class ContentHashTrackerTest extends TrackerContract {

  @Override
  PrecopySession open(int pid) throws TrackingException {
    return new ContentHashSession(pid, TrackerSettings.defaults(), "test");
  }

  @Test
  void hashMemoryIsEightBytesPerCopyablePage() throws Exception {
    try (PageChild child = PageChild.start(1024); ContentHashSession s = new ContentHashSession(child.pid(), TrackerSettings.defaults(), "test")) {
      CopyFigures f = s.capture().copy(new MemoryImage());
      assertEquals(TrackerKind.CONTENT_HASH, s.kind());
      assertTrue(f.totalPages() >= 1024);
      // the hash arrays cover whole areas (copyable or not yet present pages): 8 bytes per page of area
      assertTrue(s.hashBytes() >= 8L * 1024, "hashes held: " + s.hashBytes());
    }
  }

  @Test
  void processExitingBeforeTheCopyIsATypedError() throws Exception {
    PageChild child = PageChild.start(64);
    try (PrecopySession s = open(child.pid())) {
      CapturedRound r = s.capture();
      child.close();
      TrackingException e = assertThrows(TrackingException.class, () -> r.copy(new MemoryImage()));
      assertEquals(TrackingException.Reason.PROCESS_EXITED, e.reason(), e.getMessage());
      TrackingException again = assertThrows(TrackingException.class, s::capture);
      assertEquals(TrackingException.Reason.PROCESS_EXITED, again.reason(), again.getMessage());
    }
  }
}
