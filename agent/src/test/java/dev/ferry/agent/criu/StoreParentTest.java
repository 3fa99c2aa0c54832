package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.criu.image.CriuImageFile;
import dev.ferry.agent.criu.image.CriuMagic;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parent linked to the store's layout, and a final dump merged into it (the real store, real files). */
class StoreParentTest {
  static final int PID = 42;
  static final long BASE = 0x7f0000000000L;
  @TempDir Path dir;

  private static ByteBuffer pages(int n, int tag) {
    ByteBuffer b = ByteBuffer.allocate(n * 4096);
    for (int i = 0; i < n; i++) {
      b.putInt(i * 4096, tag * 100 + i);
    }
    return b;
  }

  private static PagemapEntry entry(long address, int pages, int flags) {
    return PagemapEntry.newBuilder().setVaddr(address).setNrPages(pages).setFlags(flags).build();
  }

  private PageStore storeWith8Pages(PageStores stores) throws Exception {
    PageStore store = stores.openOrCreate("m").store();
    ProcessAreas areas = ProcessAreas.newBuilder().setPid(PID)
        .addAreas(dev.ferry.proto.AddressRange.newBuilder().setStart(BASE).setEnd(BASE + 16 * 4096)).build();
    RoundWriter r1 = store.beginRound(1, List.of(areas));
    r1.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(8).build()), pages(8, 1));
    r1.commit(1, 8);
    return store;
  }

  private Path finalDir(List<PagemapEntry> entries, ByteBuffer pagesImage) throws Exception {
    Path fin = Files.createDirectories(dir.resolve("final"));
    new ImagePids(Map.of(PID, 1)).write(fin);
    List<com.google.protobuf.MessageLite> all = new java.util.ArrayList<>();
    all.add(PagemapHead.newBuilder().setPagesId(7).build());
    all.addAll(entries);
    CriuImageFile.write(fin.resolve("pagemap-1.img"), CriuMagic.PAGEMAP, all);
    Files.write(fin.resolve("pages-7.img"), pagesImage.array());
    return fin;
  }

  @Test
  void theFinalDumpsPagesMoveIntoTheLayoutAndItsPagemapBecomesOneParentRun() throws Exception {
    try (PageStores stores = new PageStores(dir.resolve("stores"), new PageHashing(), true)) {
      PageStore store = storeWith8Pages(stores);
      StoreParent parent = new StoreParent(store);
      ParentSnapshot linked = parent.link(dir.resolve("parent"), Duration.ofSeconds(5));
      assertTrue(Files.isSymbolicLink(dir.resolve("parent/pages-1.img")));
      assertEquals(1, linked.processes().size());
      AddressRange slot = linked.processes().get(0).runs().get(0);
      assertTrue(slot.start() <= BASE && slot.end() >= BASE + 10 * 4096, slot.toString());

      // the final dump: pages 2 and 8 dirty (8 new), the rest from the parent
      Path fin = finalDir(List.of(entry(BASE, 2, 1), entry(BASE + 2 * 4096, 1, 4), entry(BASE + 3 * 4096, 5, 1),
          entry(BASE + 8 * 4096, 1, 4)), pages(2, 9));
      StoreParent.Absorbed a = parent.absorbFinal(fin, linked);
      assertEquals(new StoreParent.Absorbed(2, 4, 1), a);

      CriuImageFile.Image image = CriuImageFile.read(fin.resolve("pagemap-1.img"));
      assertEquals(2, image.entries().size());
      assertEquals(7, CriuImageFile.entry(image, 0, PagemapHead.parser()).getPagesId());
      assertEquals(entry(BASE, 9, 1), CriuImageFile.entry(image, 1, PagemapEntry.parser()));
      assertTrue(Files.exists(fin.resolve("pagemap-1.img.orig")));

      ByteBuffer page = ByteBuffer.allocate(4);
      try (FileChannel f = FileChannel.open(dir.resolve("parent/pages-1.img"), StandardOpenOption.READ)) {
        f.read(page.clear(), BASE - slot.start() + 2 * 4096);
        assertEquals(900, page.getInt(0));  // moved from the final dump
        f.read(page.clear(), BASE - slot.start() + 8 * 4096);
        assertEquals(901, page.getInt(0));  // a page the store never held
        f.read(page.clear(), BASE - slot.start() + 3 * 4096);
        assertEquals(103, page.getInt(0));  // from the store
      }

      // a retry starts from the original pagemap (the layout is laid out anew from the store first)
      ParentSnapshot again = parent.link(dir.resolve("parent"), Duration.ofSeconds(5));
      assertEquals(new StoreParent.Absorbed(2, 4, 1), parent.absorbFinal(fin, again));
    }
  }

  @Test
  void aPageTheStoreLacksButTheFinalTakesFromTheParentFailsBeforeTheRestore() throws Exception {
    try (PageStores stores = new PageStores(dir.resolve("stores"), new PageHashing(), true)) {
      StoreParent parent = new StoreParent(storeWith8Pages(stores));
      ParentSnapshot linked = parent.link(dir.resolve("parent"), Duration.ofSeconds(5));
      Path fin = finalDir(List.of(entry(BASE, 9, 1)), ByteBuffer.allocate(0));
      CriuFailure f = assertThrows(CriuFailure.class, () -> parent.absorbFinal(fin, linked));
      assertEquals(CriuFailure.Reason.BAD_OUTPUT, f.reason());
      assertTrue(f.getMessage().contains(Long.toHexString(BASE + 8 * 4096)), f.getMessage());
    }
  }
}
