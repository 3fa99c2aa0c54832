package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.freezer.FrozenTree;
import dev.ferry.agent.freezer.SignalFreezer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * What every tracker must do, against real child processes. Subclasses say which tracker (the
 * hash tracker runs on the host, the soft-dirty one in the lab VM).
 */
abstract class TrackerContract {

  abstract PrecopySession open(int pid) throws TrackingException;

  /** Region size of the continuous-writer test (smaller in the emulated lab VM). */
  int stressPages() {
    return 8192;
  }

  static CopyFigures round(PrecopySession s, MemoryImage image) throws Exception {
    CapturedRound r = s.capture();
    image.beginRound(r);
    return r.copy(image);
  }

  @Test
  void reportsExactlyTheWrittenPagesOfTheRegion() throws Exception {
    try (PageChild child = PageChild.start(512); PrecopySession s = open(child.pid())) {
      MemoryImage image = new MemoryImage();
      CopyFigures first = round(s, image);
      Set<Long> all = image.deliveredThisRound(child.pid());
      for (int i = 0; i < child.pages(); i++) {
        assertTrue(all.contains(child.pageAddress(i)), "round 1 copies every page; missed page " + i);
      }
      assertEquals(first.totalPages(), first.dirtyPages(), "round 1 is a full round");

      List<Integer> written = List.of(0, 3, 17, 18, 19, 100, 255, 256, 511);
      child.write(written);
      CopyFigures second = round(s, image);
      Set<Long> dirty = image.deliveredThisRound(child.pid());
      Set<Integer> inRegion = new TreeSet<>();
      long extras = 0;
      for (long a : dirty) {
        long idx = (a - child.region()) / 4096;
        if (a >= child.region() && idx < child.pages()) {
          inRegion.add((int) idx);
        } else {
          extras++;
        }
      }
      System.out.printf("%s: round 2 dirty=%d written=%d extras outside the region=%d%n",
          s.kind(), second.dirtyPages(), written.size(), extras);
      assertEquals(new TreeSet<>(written), inRegion, "dirty pages of the region are exactly the written ones");
      assertTrue(extras < 64, "few pages outside the region change between rounds (stack, stdio): " + extras);
      assertEquals(second.dirtyPages(), dirty.size());
    }
  }

  @Test
  void continuousWriterCopyEqualsMemoryAfterFinalFrozenRound() throws Exception {
    try (PageChild child = PageChild.start(stressPages()); PrecopySession s = open(child.pid())) {
      int grandchild = child.fork();
      MemoryImage image = new MemoryImage();
      child.startStress(42);
      List<Long> dirty = new ArrayList<>();
      for (int k = 0; k < 4; k++) {
        dirty.add(round(s, image).dirtyPages());
      }
      long compared;
      try (FrozenTree frozen = new SignalFreezer().freeze(List.of(child.pid(), grandchild), Duration.ofSeconds(60))) {
        CapturedRound last = s.capture();
        assertTrue(last.processes().stream().anyMatch(p -> p.pid() == grandchild), "the tree includes the forked child");
        image.beginRound(last);
        dirty.add(last.copy(image).dirtyPages());
        compared = image.assertEqualsProcess(child.pid()) + image.assertEqualsProcess(grandchild);
      }
      long writes = child.stopStress();
      System.out.printf("%s: dirty pages per round %s, writes %d, pages compared %d%n", s.kind(), dirty, writes, compared);
      assertTrue(writes > 0, "the writer ran");
      assertTrue(compared >= 2L * stressPages(), "compared at least both regions: " + compared);
    }
  }

  @Test
  void remappedAreaAtTheSameAddressIsCopiedAgain() throws Exception {
    try (PageChild child = PageChild.start(256); PrecopySession s = open(child.pid())) {
      MemoryImage image = new MemoryImage();
      round(s, image);
      child.remap();
      round(s, image);
      Set<Long> dirty = image.deliveredThisRound(child.pid());
      for (int i = 0; i < child.pages(); i++) {
        assertTrue(dirty.contains(child.pageAddress(i)), "remapped page " + i + " copied again");
      }
      try (FrozenTree frozen = new SignalFreezer().freeze(List.of(child.pid()), Duration.ofSeconds(60))) {
        CapturedRound last = s.capture();
        image.beginRound(last);
        last.copy(image);
        image.assertEqualsProcess(child.pid());
      }
    }
  }
}
