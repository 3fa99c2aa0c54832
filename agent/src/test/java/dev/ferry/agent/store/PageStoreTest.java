package dev.ferry.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.transfer.PageTable;
import dev.ferry.proto.AddressRange;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store on a real file system: latest version wins, removals, reopen after a restart or a crash. */
class PageStoreTest {
  static final int PID = 4242;
  static final long BASE = 0x7f0000000000L;
  final PageHashing hashing = new PageHashing();

  static ProcessAreas areas(long pages, AddressRange... removed) {
    return ProcessAreas.newBuilder().setPid(PID)
        .addAreas(AddressRange.newBuilder().setStart(BASE).setEnd(BASE + pages * 4096))
        .addAllRemoved(List.of(removed)).build();
  }

  static ByteBuffer pages(int n, int fill) {
    ByteBuffer b = ByteBuffer.allocateDirect(n * 4096);
    for (int i = 0; i < n * 4096; i++) {
      b.put(i, (byte) (fill + i / 4096));
    }
    return b;
  }

  /** The digest a source would compute for the same operations. */
  long expectedDigest(PageTable ledger) {
    return ledger.digest();
  }

  @Test
  void latestVersionWinsRemovalsDropAndReopenRestoresTheSameState(@TempDir Path dir) throws Exception {
    PageStores stores = new PageStores(dir, hashing);
    PageStore store = stores.openOrCreate("m1").store();
    PageTable ledger = new PageTable(false);

    RoundWriter r1 = store.beginRound(1, List.of(areas(16)));
    r1.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(8).build(),
        PageRun.newBuilder().setAddress(BASE + 8 * 4096).setPages(8).setZero(true).build()), pages(8, 1));
    r1.commit(1, 16);
    ByteBuffer first = pages(8, 1);
    for (int i = 0; i < 8; i++) {
      ledger.put(PID, BASE + i * 4096L, PageHashing.pageHash(PID, BASE + i * 4096L, hashing.contentHash(first, i * 4096)), 0);
    }
    for (int i = 8; i < 16; i++) {
      ledger.put(PID, BASE + i * 4096L, PageHashing.pageHash(PID, BASE + i * 4096L, hashing.zeroContentHash()), 0);
    }
    assertEquals(ledger.digest(), store.status().digest());

    // Round 2 rewrites page 2 and drops the last 4 pages.
    AddressRange gone = AddressRange.newBuilder().setStart(BASE + 12 * 4096).setEnd(BASE + 16 * 4096).build();
    RoundWriter r2 = store.beginRound(2, List.of(areas(12, gone)));
    r2.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE + 2 * 4096).setPages(1).build()), pages(1, 99));
    r2.commit(1, 1);
    ledger.removeRange(PID, BASE + 12 * 4096, BASE + 16 * 4096);
    ledger.put(PID, BASE + 2 * 4096, PageHashing.pageHash(PID, BASE + 2 * 4096, hashing.contentHash(pages(1, 99), 0)), 0);
    assertEquals(ledger.digest(), store.status().digest());
    assertEquals(12, store.status().pages());

    ByteBuffer page = ByteBuffer.allocateDirect(4096);
    assertTrue(store.readPage(PID, BASE + 2 * 4096, page));
    assertEquals(99, page.get(0), "round 2's version of page 2 wins");
    assertFalse(store.readPage(PID, BASE + 13 * 4096, page.clear()), "removed area dropped");

    // copyPages gathers the same bytes as readPage page by page, across rounds and zero pages,
    // and names the first page it lacks
    ByteBuffer expected = ByteBuffer.allocateDirect(12 * 4096);
    for (int i = 0; i < 12; i++) {
      assertTrue(store.readPage(PID, BASE + i * 4096L, expected));
    }
    java.io.ByteArrayOutputStream copied = new java.io.ByteArrayOutputStream();
    assertEquals(-1, store.copyPages(PID, BASE, 12, java.nio.channels.Channels.newChannel(copied)));
    expected.flip();
    assertEquals(expected, ByteBuffer.wrap(copied.toByteArray()));
    assertEquals(99, copied.toByteArray()[2 * 4096]);
    assertEquals(BASE + 12 * 4096, store.copyPages(PID, BASE + 10 * 4096, 4,
        java.nio.channels.Channels.newChannel(java.io.OutputStream.nullOutputStream())));

    // A round that was written but never committed (agent crashed mid-round) ...
    RoundWriter r3 = store.beginRound(3, List.of(areas(12)));
    r3.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(1).build()), pages(1, 7));
    PageStore.Status committed = store.status();
    stores.close(); // ... is left on disk as it was
    Path storeDir = dir.resolve("stores/m1");
    assertTrue(Files.exists(storeDir.resolve("round-000003.pages")));

    PageStores restarted = new PageStores(dir, hashing);
    PageStores.Opened reopened = restarted.openOrCreate("m1");
    assertTrue(reopened.reopened());
    assertEquals(committed, reopened.store().status(), "reopened at the last committed round");
    assertFalse(Files.exists(storeDir.resolve("round-000003.pages")), "uncommitted round deleted");
    assertTrue(reopened.store().readPage(PID, BASE + 2 * 4096, page.clear()));
    assertEquals(99, page.get(0));
    restarted.close();
  }

  @Test
  void layersWhosePagesAreAllSupersededAreDeletedAtCommitAndReopenSeesTheSameStore(@TempDir Path dir) throws Exception {
    PageStores stores = new PageStores(dir, hashing);
    PageStore store = stores.openOrCreate("m4").store();
    Path m4 = dir.resolve("stores/m4");
    RoundWriter r1 = store.beginRound(1, List.of(areas(8)));
    r1.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(2).build(),
        PageRun.newBuilder().setAddress(BASE + 2 * 4096).setPages(1).setZero(true).build()), pages(2, 1));
    r1.commit(1, 3);
    RoundWriter r2 = store.beginRound(2, List.of(areas(8)));
    r2.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE + 4 * 4096).setPages(1).build()), pages(1, 40));
    r2.commit(1, 1);
    assertTrue(Files.exists(m4.resolve("round-000001.log")), "round 1 still holds live pages");
    // round 3 supersedes every page of round 1 (the zero page too), and drops nothing
    RoundWriter r3 = store.beginRound(3, List.of(areas(8)));
    r3.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(3).build()), pages(3, 70));
    r3.commit(1, 3);
    assertFalse(Files.exists(m4.resolve("round-000001.log")), "round 1 is superseded: compacted");
    assertFalse(Files.exists(m4.resolve("round-000001.pages")));
    assertTrue(Files.exists(m4.resolve("round-000002.pages")), "round 2 still holds a live page");
    // round 4 drops the area of round 2's page: round 2 is empty, but round 4 (with a removal) stays
    RoundWriter r4 = store.beginRound(4, List.of(areas(8, AddressRange.newBuilder().setStart(BASE + 4 * 4096).setEnd(BASE + 5 * 4096).build())));
    r4.commit(0, 0);
    assertFalse(Files.exists(m4.resolve("round-000002.pages")), "round 2 is superseded: compacted");
    assertTrue(Files.exists(m4.resolve("round-000004.log")));
    PageStore.Status before = store.status();
    assertEquals(3, before.pages());
    ByteBuffer page = ByteBuffer.allocate(4096);
    for (int i = 0; i < 3; i++) {
      page.clear();
      assertTrue(store.readPage(PID, BASE + i * 4096L, page));
      assertEquals((byte) (70 + i), page.get(0));
    }
    assertFalse(store.readPage(PID, BASE + 4 * 4096L, page.clear()));
    stores.close();

    PageStores.Opened reopened = new PageStores(dir, hashing).openOrCreate("m4");
    assertTrue(reopened.reopened());
    assertEquals(before.digest(), reopened.store().status().digest(), "the remaining layers rebuild the same store");
    assertEquals(before.pages(), reopened.store().status().pages());
    assertEquals(4, reopened.store().status().lastRound());
    page.clear();
    assertTrue(reopened.store().readPage(PID, BASE + 2 * 4096L, page));
    assertEquals((byte) 72, page.get(0));
    reopened.store().close();
  }

  @Test
  void pagesSupersededByACommittedRoundGiveBackTheirDiskSpace(@TempDir Path dir) throws Exception {
    PageStores stores = new PageStores(dir, hashing);
    PageStore store = stores.openOrCreate("m5").store();
    Path layer1 = dir.resolve("stores/m5/round-000001.pages");
    RoundWriter r1 = store.beginRound(1, List.of(areas(256)));
    r1.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(256).build()), pages(256, 1));
    r1.commit(1, 256);
    long allocatedBefore = allocatedBytes(layer1);
    long statusBefore = store.status().bytesOnDisk();
    assertTrue(allocatedBefore >= 256 * 4096L, "round 1's pages are on disk: " + allocatedBefore);

    // round 2 rewrites pages 16..79 (one run) and every other page of 128..255 (64 single pages)
    RoundWriter r2 = store.beginRound(2, List.of(areas(256)));
    List<PageRun> runs = new java.util.ArrayList<>(List.of(PageRun.newBuilder().setAddress(BASE + 16 * 4096L).setPages(64).build()));
    for (int i = 128; i < 256; i += 2) {
      runs.add(PageRun.newBuilder().setAddress(BASE + i * 4096L).setPages(1).build());
    }
    r2.apply(PID, runs, pages(128, 100));
    r2.commit(1, 128); // one batch

    long freed = allocatedBefore - allocatedBytes(layer1);
    // (the file system may spend a block or two on the now fragmented file's extent tree)
    assertTrue(freed > 120 * 4096L && freed <= 128 * 4096L, "the 128 superseded pages of round 1 take no disk space any more: "
        + freed / 4096 + " pages freed");
    assertEquals(256 * 4096L, Files.size(layer1), "sizes are kept (a reopen checks them)");
    assertTrue(store.status().bytesOnDisk() < statusBefore + 128 * 4096L,
        "status counts the holes: " + store.status().bytesOnDisk() + " vs " + statusBefore);
    PageStore.Status committed = store.status();
    assertPages(store);
    stores.close();

    PageStores.Opened reopened = new PageStores(dir, hashing).openOrCreate("m5");
    assertTrue(reopened.reopened());
    assertEquals(committed.digest(), reopened.store().status().digest(), "replaying the logs never reads a hole");
    assertEquals(committed.bytesOnDisk(), reopened.store().status().bytesOnDisk());
    assertPages(reopened.store());
    reopened.store().close();
  }

  /** Round 1's pages where round 2 did not write, round 2's where it did (see the test above). */
  private static void assertPages(PageStore store) throws Exception {
    ByteBuffer page = ByteBuffer.allocateDirect(4096);
    int second = 0;
    for (int i = 0; i < 256; i++) {
      assertTrue(store.readPage(PID, BASE + i * 4096L, page.clear()));
      boolean rewritten = (i >= 16 && i < 80) || (i >= 128 && i % 2 == 0);
      byte want = rewritten ? (byte) (100 + second++) : (byte) (1 + i);
      for (int off = 0; off < 4096; off += 512) {
        assertEquals(want, page.get(off), "page " + i + " at " + off);
      }
    }
  }

  /** st_blocks of {@code file} in bytes (what du counts), from coreutils stat. */
  private static long allocatedBytes(Path file) throws Exception {
    Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
    String[] out = new String(p.getInputStream().readAllBytes()).trim().split(" ");
    assertEquals(0, p.waitFor(), String.join(" ", out));
    return Long.parseLong(out[0]) * Long.parseLong(out[1]);
  }

  @Test
  void aDamagedStoreIsDiscardedOnReopen(@TempDir Path dir) throws Exception {
    PageStores stores = new PageStores(dir, hashing);
    PageStore store = stores.openOrCreate("m2").store();
    RoundWriter r1 = store.beginRound(1, List.of(areas(4)));
    r1.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(4).build()), pages(4, 3));
    r1.commit(1, 4);
    stores.close();
    Path log = dir.resolve("stores/m2/round-000001.log");
    byte[] bytes = Files.readAllBytes(log);
    bytes[20] ^= 1;
    Files.write(log, bytes, StandardOpenOption.TRUNCATE_EXISTING);

    PageStores.Opened reopened = new PageStores(dir, hashing).openOrCreate("m2");
    assertFalse(reopened.reopened(), "a damaged store is not reused");
    assertEquals(0, reopened.store().status().pages());
  }

  @Test
  void pagesOutsideTheAnnouncedAreasAreRejectedAndTheRoundAborted(@TempDir Path dir) throws Exception {
    PageStore store = new PageStores(dir, hashing).openOrCreate("m3").store();
    RoundWriter r1 = store.beginRound(1, List.of(areas(4)));
    StoreException e = assertThrows(StoreException.class, () -> r1.apply(PID,
        List.of(PageRun.newBuilder().setAddress(BASE + 3 * 4096).setPages(2).build()), pages(2, 1)));
    assertEquals(StoreException.Kind.REJECTED, e.kind());
    assertEquals(0, store.status().lastRound());
    store.beginRound(1, List.of(areas(4))).abort(); // the aborted round freed the writer slot
  }

  @Test
  void aMigrationIdThatIsNotAPlainNameIsRejected(@TempDir Path dir) {
    StoreException e = assertThrows(StoreException.class, () -> new PageStores(dir, hashing).openOrCreate("../etc"));
    assertEquals(StoreException.Kind.REJECTED, e.kind());
  }

  /**
   * A Discard (another thread: the operator cancelled) may close the store while the round's
   * thread still reads its layers (a commit updating the CRIU parent layout, lab run 22:18):
   * the reader gets NOT_FOUND naming the discard, not a NullPointerException (an INTERNAL status).
   */
  @Test
  void readingAfterADiscardIsNotFoundNamingTheDiscard(@TempDir Path dir) throws Exception {
    PageStore store = new PageStores(dir, hashing).openOrCreate("m1").store();
    RoundWriter r1 = store.beginRound(1, List.of(areas(4)));
    r1.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(4).build()), pages(4, 1));
    r1.commit(1, 4);

    store.discard();

    StoreException read = assertThrows(StoreException.class,
        () -> store.readPage(PID, BASE, ByteBuffer.allocateDirect(4096)));
    assertEquals(StoreException.Kind.NOT_FOUND, read.kind());
    assertTrue(read.getMessage().contains("discarded"), read.getMessage());
    StoreException copy = assertThrows(StoreException.class, () -> store.copyPages(PID, BASE, 4,
        java.nio.channels.Channels.newChannel(java.io.OutputStream.nullOutputStream())));
    assertEquals(StoreException.Kind.NOT_FOUND, copy.kind());
    assertThrows(StoreException.class, () -> store.beginRound(2, List.of(areas(4))));
  }
}
