package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.freezer.FrozenTree;
import dev.ferry.agent.freezer.SignalFreezer;
import dev.ferry.proto.TrackerKind;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
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
  void pagesDroppedWithDontneedGoOutOnceAsZeroFlags() throws Exception {
    try (PageChild child = PageChild.start(256); PrecopySession s = open(child.pid())) {
      MemoryImage image = new MemoryImage();
      round(s, image);
      List<Integer> dropped = List.of(1, 2, 3, 40, 200, 255);
      child.drop(dropped);
      round(s, image);
      Set<Integer> zeroed = inRegion(child, image.zeroFlagsThisRound(child.pid()));
      Set<Integer> sent = inRegion(child, image.deliveredThisRound(child.pid()));
      assertEquals(new TreeSet<>(dropped), zeroed, "every dropped page goes out as a zero flag");
      assertEquals(new TreeSet<>(dropped), sent, "nothing else of the region goes out");

      round(s, image);
      assertEquals(Set.of(), inRegion(child, image.deliveredThisRound(child.pid())), "a dropped page goes out once");

      child.write(List.of(2)); // faults a fresh page in: data again
      round(s, image);
      assertEquals(Set.of(2), inRegion(child, image.deliveredThisRound(child.pid())));
      assertEquals(Set.of(), inRegion(child, image.zeroFlagsThisRound(child.pid())));

      try (FrozenTree frozen = new SignalFreezer().freeze(List.of(child.pid()), Duration.ofSeconds(60))) {
        CapturedRound last = s.capture();
        image.beginRound(last);
        last.copy(image);
        // the dropped pages read as zeros in the process and must be zeros in the copy
        assertTrue(image.assertEqualsProcess(child.pid()) >= child.pages());
      }
    }
  }

  private static Set<Integer> inRegion(PageChild child, Set<Long> addresses) {
    Set<Integer> out = new TreeSet<>();
    for (long a : addresses) {
      if (a >= child.region() && a < child.region() + 4096L * child.pages()) {
        out.add((int) ((a - child.region()) / 4096));
      }
    }
    return out;
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
