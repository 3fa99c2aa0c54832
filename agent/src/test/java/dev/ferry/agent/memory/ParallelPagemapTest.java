package dev.ferry.agent.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.freezer.FrozenTree;
import dev.ferry.agent.freezer.SignalFreezer;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.PageChild;
import dev.ferry.agent.tracking.TrackingException;
import java.nio.LongBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parallel pagemap reader against a real child: same entries as one sequential read. */
class ParallelPagemapTest {

  @Test
  void everyThreadCountReadsTheSameEntriesAsOneSequentialRead() throws Exception {
    try (PageChild child = PageChild.start(5000)) {
      child.drop(List.of(7, 8, 9, 1000, 4999)); // holes: entries differ from their neighbours
      List<AddressRange> ranges = new ArrayList<>();
      for (MappedArea a : MapsReader.read(child.pid())) {
        if (AreaKind.of(a).copied()) {
          ranges.add(a.range());
        }
      }
      try (FrozenTree frozen = new SignalFreezer().freeze(List.of(child.pid()), Duration.ofSeconds(30))) {
        List<long[]> expected = new ArrayList<>();
        try (PagemapReader one = new PagemapReader(child.pid())) {
          for (AddressRange r : ranges) {
            long[] e = new long[(int) (r.bytes() / PageSize.BYTES)];
            one.read(r.start(), r.end(), (at, chunk, n) -> chunk.get(e, (int) ((at - r.start()) / PageSize.BYTES), n));
            expected.add(e);
          }
        }
        for (int threads = 1; threads <= 3; threads++) {
          try (ParallelPagemap pagemap = new ParallelPagemap(threads);
              ParallelPagemap.Batch batch = pagemap.prepare(List.of(new ParallelPagemap.Target(child.pid(), ranges)))) {
            batch.read();
            assertNull(batch.failure(0));
            List<Integer> pieces = batch.piecesPerThread();
            assertEquals(threads, pieces.size());
            for (int p : pieces) {
              assertTrue(p > 0, threads + " threads: every thread has a share of 5000+ pages: " + pieces);
            }
            for (int j = 0; j < ranges.size(); j++) {
              LongBuffer got = batch.entries(0, j);
              long[] have = new long[got.remaining()];
              got.get(have);
              assertArrayEquals(expected.get(j), have, threads + " threads, range " + ranges.get(j));
            }
          }
        }
      }
    }
  }

  @Test
  void anExitedProcessIsATypedFailureOfItsTarget() throws Exception {
    PageChild child = PageChild.start(64);
    List<AddressRange> ranges = List.of(new AddressRange(child.region(), child.pageAddress(64)));
    try (ParallelPagemap pagemap = new ParallelPagemap(2);
        ParallelPagemap.Batch batch = pagemap.prepare(List.of(new ParallelPagemap.Target(child.pid(), ranges)))) {
      child.close();
      batch.read();
      TrackingException e = batch.failure(0);
      assertNotNull(e, "reading the pagemap of an exited process fails");
      assertEquals(TrackingException.Reason.PROCESS_EXITED, e.reason(), e.getMessage());
    }
  }
}
