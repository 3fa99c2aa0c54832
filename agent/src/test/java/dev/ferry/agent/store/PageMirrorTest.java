package dev.ferry.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.proto.AddressRange;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's pages laid out by address (the CRIU parent pages image) against readPage, round by round. */
class PageMirrorTest {
  static final int PID = 4242;
  static final long BASE = 0x7f0000000000L;
  static final long FAR = BASE + (1L << 30); // beyond BASE's slot: a new slot, the layout is rebuilt
  final PageHashing hashing = new PageHashing();

  static ProcessAreas areas() {
    return ProcessAreas.newBuilder().setPid(PID)
        .addAreas(AddressRange.newBuilder().setStart(BASE).setEnd(BASE + 64 * 4096))
        .addAreas(AddressRange.newBuilder().setStart(FAR).setEnd(FAR + 16 * 4096)).build();
  }

  static ByteBuffer pages(int n, int fill) {
    ByteBuffer b = ByteBuffer.allocateDirect(n * 4096);
    for (int i = 0; i < n * 4096; i++) {
      b.put(i, (byte) (fill + i / 4096 + i % 7));
    }
    return b;
  }

  static PageRun run(long address, int pages) {
    return PageRun.newBuilder().setAddress(address).setPages(pages).build();
  }

  /** Every held page, read at its place in the layout, equals readPage; returns the pages checked. */
  static long assertLayoutMatches(PageStore store) throws Exception {
    PageStore.ParentLayout layout = store.parentLayout(PID);
    long checked = 0;
    long offset = 0;
    try (FileChannel f = FileChannel.open(layout.pagesFile(), StandardOpenOption.READ)) {
      for (var slot : layout.slots()) {
        for (long a = slot.start(); a < slot.end(); a += 4096) {
          ByteBuffer want = ByteBuffer.allocate(4096);
          if (!store.readPage(PID, a, want)) {
            continue;
          }
          ByteBuffer got = ByteBuffer.allocate(4096);
          long at = offset + (a - slot.start());
          while (got.hasRemaining() && f.read(got, at + got.position()) > 0) {
          }
          got.flip();
          want.flip();
          assertEquals(want, got.limit() == 4096 ? got : ByteBuffer.allocate(4096), "page " + Long.toHexString(a));
          checked++;
        }
        offset += slot.bytes();
      }
    }
    return checked;
  }

  @Test
  void theLayoutFollowsEveryRoundInPlaceOrRebuilt(@TempDir Path dir) throws Exception {
    PageStores stores = new PageStores(dir, hashing, true);
    PageStore store = stores.openOrCreate("m1").store();

    RoundWriter r1 = store.beginRound(1, List.of(areas()));
    r1.apply(PID, List.of(run(BASE, 8), PageRun.newBuilder().setAddress(BASE + 8 * 4096).setPages(8).setZero(true).build()), pages(8, 1));
    r1.commit(1, 16);
    assertEquals(16, assertLayoutMatches(store));
    assertEquals(1, store.parentLayout(PID).slots().size());

    // a page rewritten in place, and pages far away: a second slot, the file laid out anew
    RoundWriter r2 = store.beginRound(2, List.of(areas()));
    r2.apply(PID, List.of(run(BASE + 2 * 4096, 1), run(FAR, 4)), pages(5, 50));
    r2.commit(1, 5);
    assertEquals(20, assertLayoutMatches(store));
    assertEquals(2, store.parentLayout(PID).slots().size());

    // in place again: a zero page over data, data over a zero page
    RoundWriter r3 = store.beginRound(3, List.of(areas()));
    r3.apply(PID, List.of(run(BASE + 9 * 4096, 1), PageRun.newBuilder().setAddress(BASE + 3 * 4096).setPages(1).setZero(true).build(),
        run(FAR + 4096, 1)), pages(2, 90));
    r3.commit(1, 3);
    assertEquals(20, assertLayoutMatches(store));
    assertEquals(-1, store.firstMissing(PID, BASE, 16));
    assertEquals(-1, store.firstMissing(PID, BASE + 5 * 4096, 3));
    assertEquals(BASE + 16 * 4096, store.firstMissing(PID, BASE, 17));
    assertEquals(BASE - 4096, store.firstMissing(PID, BASE - 4096, 2));
    assertEquals(FAR + 4 * 4096, store.firstMissing(PID, FAR + 4096, 4));
    assertEquals(FAR + 5 * 4096, store.firstMissing(PID, FAR + 5 * 4096, 1));
    stores.close();

    // reopened (an agent restart): the mirror is rebuilt on demand, same content
    PageStores again = new PageStores(dir, hashing, true);
    assertEquals(20, assertLayoutMatches(again.openOrCreate("m1").store()));
    again.close();
  }

  @Test
  void withoutAMirrorTheLayoutIsMadeOnDemand(@TempDir Path dir) throws Exception {
    PageStores stores = new PageStores(dir, hashing);
    PageStore store = stores.openOrCreate("m2").store();
    RoundWriter r1 = store.beginRound(1, List.of(areas()));
    r1.apply(PID, List.of(run(BASE + 4096, 3), run(FAR + 8 * 4096, 2)), pages(5, 3));
    r1.commit(1, 5);
    assertEquals(5, assertLayoutMatches(store));
    assertTrue(Files.exists(store.parentLayout(PID).pagesFile()));
    assertEquals(-1, store.firstMissing(PID, BASE + 4096, 3));
    assertEquals(BASE + 4 * 4096, store.firstMissing(PID, BASE + 4096, 4));
    stores.close();
  }

  @Test
  void slotsAreTheHeldRunsGapFree() {
    var r1 = new dev.ferry.agent.tracking.AddressRange(0x10000, 0x12000);
    var r2 = new dev.ferry.agent.tracking.AddressRange(0x12000, 0x13000); // adjacent: one slot
    var r3 = new dev.ferry.agent.tracking.AddressRange(0x40000, 0x41000);
    var slots = PageMirror.slotsFor(List.of(r1, r2, r3));
    assertEquals(2, slots.size());
    assertEquals(new dev.ferry.agent.tracking.AddressRange(0x10000, 0x13000), slots.get(0).range());
    assertEquals(0, slots.get(0).offset());
    assertEquals(r3, slots.get(1).range());
    assertEquals(0x3000, slots.get(1).offset(), "no padding: the next slot starts where the last ended");
    assertTrue(PageMirror.covered(slots, List.of(new dev.ferry.agent.tracking.AddressRange(0x11000, 0x13000))));
    assertTrue(!PageMirror.covered(slots, List.of(new dev.ferry.agent.tracking.AddressRange(0x13000, 0x14000))));
  }
}
