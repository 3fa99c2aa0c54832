package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.MessageLite;
import dev.ferry.agent.criu.image.CriuImageFile;
import dev.ferry.agent.criu.image.CriuMagic;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.proto.AddressRange;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.criu.CoreEntry;
import dev.ferry.proto.criu.MmEntry;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import dev.ferry.proto.criu.ThreadInfoX86;
import dev.ferry.proto.criu.UserX86RegsEntry;
import dev.ferry.proto.criu.VmaEntry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flat top layer built from real files: a page store with committed rounds (its gap-free
 * layout), a final image dir written in CRIU's framing (pagemap, pages, mm, core), then every
 * page of {@code flat/pages-1.img} checked at its place against what the process must see.
 */
class FlatTopTest {
  static final int PID = 4242;
  static final int IMAGE_PID = 1;
  static final long P = 4096;
  static final long BASE = 0x7f0000000000L;
  static final long FAR = BASE + (1L << 30);
  static final int PARENT = 1, LAZY = 2, PRESENT = 4;

  @TempDir Path dir;
  PageStores stores;
  PageStore store;
  Path fin;

  /** Store: pages 0-15 (round 1, page i filled with 1 + i); round 2: page 2 (50) and FAR 0-3 (51-54). */
  @BeforeEach
  void store() throws Exception {
    stores = new PageStores(dir.resolve("stores"), new PageHashing(), true);
    store = stores.openOrCreate("m").store();
    ProcessAreas areas = ProcessAreas.newBuilder().setPid(PID)
        .addAreas(AddressRange.newBuilder().setStart(BASE).setEnd(BASE + 64 * P))
        .addAreas(AddressRange.newBuilder().setStart(FAR).setEnd(FAR + 16 * P)).build();
    RoundWriter r1 = store.beginRound(1, List.of(areas));
    r1.apply(PID, List.of(run(BASE, 16)), pages(16, 1));
    r1.commit(1, 16);
    RoundWriter r2 = store.beginRound(2, List.of(areas));
    r2.apply(PID, List.of(run(BASE + 2 * P, 1), run(FAR, 4)), pages(5, 50));
    r2.commit(1, 5);
    fin = store.directory().resolve("final");
    Files.createDirectories(fin);
    new ImagePids(Map.of(PID, IMAGE_PID)).write(fin);
    Files.writeString(fin.resolve("pstree.img"), "not read by Ferry");
    vmas(vma(BASE, BASE + 64 * P, 0x22, 1 | (1 << 9)), vma(FAR, FAR + 16 * P, 0x22, 1 | (1 << 9)));
    CriuImageFile.write(fin.resolve("core-" + IMAGE_PID + ".img"), CriuMagic.CORE, List.of(CoreEntry.newBuilder().setMtype(1)
        .setThreadInfo(ThreadInfoX86.newBuilder().setGpregs(UserX86RegsEntry.newBuilder().setSp(FAR + 3 * P + 0x10))).build()));
  }

  @AfterEach
  void close() {
    stores.close();
  }

  static PageRun run(long address, int pages) {
    return PageRun.newBuilder().setAddress(address).setPages(pages).build();
  }

  /** Page i of a batch filled with (fill + i). */
  static ByteBuffer pages(int n, int fill) {
    ByteBuffer b = ByteBuffer.allocateDirect(n * (int) P);
    for (int i = 0; i < n * P; i++) {
      b.put(i, (byte) (fill + i / P));
    }
    return b;
  }

  static byte[] page(int fill) {
    byte[] b = new byte[(int) P];
    Arrays.fill(b, (byte) fill);
    return b;
  }

  static VmaEntry vma(long start, long end, int flags, int status) {
    return VmaEntry.newBuilder().setStart(start).setEnd(end).setFlags(flags).setStatus(status).setFd(-1).build();
  }

  void vmas(VmaEntry... vmas) throws Exception {
    CriuImageFile.write(fin.resolve("mm-" + IMAGE_PID + ".img"), CriuMagic.MM, List.of(MmEntry.newBuilder().addAllVmas(List.of(vmas)).build()));
  }

  void finalImages(List<PagemapEntry> entries, byte[]... presentPages) throws Exception {
    List<MessageLite> all = new ArrayList<>();
    all.add(PagemapHead.newBuilder().setPagesId(1).build());
    all.addAll(entries);
    CriuImageFile.write(fin.resolve("pagemap-" + IMAGE_PID + ".img"), CriuMagic.PAGEMAP, all);
    ByteBuffer data = ByteBuffer.allocate(presentPages.length * (int) P);
    for (byte[] p : presentPages) {
      data.put(p);
    }
    Files.write(fin.resolve("pages-1.img"), data.array());
    Files.createSymbolicLink(fin.resolve("parent"), Path.of("..", "parent"));
  }

  static PagemapEntry e(long address, int n, int flags) {
    return PagemapEntry.newBuilder().setVaddr(address).setNrPages(n).setFlags(flags).build();
  }

  byte[] flatPage(int index) throws Exception {
    byte[] all = Files.readAllBytes(store.directory().resolve("flat/pages-1.img"));
    return Arrays.copyOfRange(all, (int) (index * P), (int) ((index + 1) * P));
  }

  @Test
  void theFlatLayerHoldsEveryPageAtItsPlace() throws Exception {
    // final: 0-1 parent, 2-3 present (new data 200, 201), 4-14 parent, 15 not dumped (freed); FAR 0-2 parent, 3 present (202)
    finalImages(List.of(e(BASE, 2, PARENT), e(BASE + 2 * P, 2, PRESENT | LAZY), e(BASE + 4 * P, 11, PARENT),
        e(FAR, 3, PARENT), e(FAR + 3 * P, 1, PRESENT)), page(200), page(201), page(202));
    Path oldLayout = store.parentLayout(PID).pagesFile();

    FlatTop.Built b = assertInstanceOf(FlatTop.Built.class, FlatTop.build(store.directory(), store, true));

    Path flat = store.directory().resolve("flat");
    assertEquals(flat, b.dir());
    assertEquals(20, b.pages());
    assertEquals(3, b.copiedPages());
    assertEquals(1, b.zeroedPages());
    assertEquals(19, b.lazyPages(), "the page of the thread's stack pointer stays eager");
    // file order: BASE 0-15 then FAR 0-3
    assertArrayEquals(page(1), flatPage(0));
    assertArrayEquals(page(2), flatPage(1));
    assertArrayEquals(page(200), flatPage(2), "dumped present: the final data");
    assertArrayEquals(page(201), flatPage(3));
    assertArrayEquals(page(1 + 4), flatPage(4), "from the store: round 1");
    assertArrayEquals(page(1 + 14), flatPage(14));
    assertArrayEquals(page(0), flatPage(15), "held but no longer dumped: zeros");
    assertArrayEquals(page(51), flatPage(16), "FAR 0 from round 2");
    assertArrayEquals(page(53), flatPage(18));
    assertArrayEquals(page(202), flatPage(19));
    assertEquals(List.of(new FlatPlan.Entry(BASE, 16, PRESENT | LAZY), new FlatPlan.Entry(FAR, 3, PRESENT | LAZY),
        new FlatPlan.Entry(FAR + 3 * P, 1, PRESENT)), DumpedMemory.entries(flat.resolve("pagemap-" + IMAGE_PID + ".img")));
    assertEquals(1, dev.ferry.agent.criu.image.PagemapScan.pagesId(flat.resolve("pagemap-" + IMAGE_PID + ".img")));
    assertFalse(Files.exists(flat.resolve("parent"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "no parent layer");
    assertTrue(Files.isSymbolicLink(flat.resolve("pstree.img")) && Files.isSymbolicLink(flat.resolve("mm-1.img")));
    assertFalse(Files.isSymbolicLink(flat.resolve("pages-1.img")), "a hard link to the layout, not a copy of the memory");

    // the store no longer takes that file for its mirror: laid out anew, the flat file untouched
    PageStore.ParentLayout again = store.parentLayout(PID);
    assertEquals(oldLayout, again.pagesFile());
    assertNotEquals(Files.getAttribute(flat.resolve("pages-1.img"), "unix:ino"), Files.getAttribute(again.pagesFile(), "unix:ino"));
    byte[] mirrored = Files.readAllBytes(again.pagesFile());
    assertArrayEquals(page(50), Arrays.copyOfRange(mirrored, (int) (2 * P), (int) (3 * P)), "the mirror holds the store's page 2 again");
    assertArrayEquals(page(200), flatPage(2));
  }

  @Test
  void pagesDumpedOutsideTheLayoutGoToASmallParentLayer() throws Exception {
    // page 16 is new since the last round: dumped present, outside the held pages
    finalImages(List.of(e(BASE, 16, PARENT), e(BASE + 16 * P, 1, PRESENT | LAZY), e(FAR, 4, PARENT)), page(9));

    FlatTop.Built b = assertInstanceOf(FlatTop.Built.class, FlatTop.build(store.directory(), store, true));

    Path flat = store.directory().resolve("flat");
    Path parent = store.directory().resolve(FlatTop.PARENT_DIR);
    assertEquals(1, b.parentPages());
    assertEquals(Path.of("..", FlatTop.PARENT_DIR), Files.readSymbolicLink(flat.resolve("parent")));
    assertEquals(List.of(new FlatPlan.Entry(BASE, 16, PRESENT | LAZY), new FlatPlan.Entry(BASE + 16 * P, 1, PARENT),
        new FlatPlan.Entry(FAR, 3, PRESENT | LAZY), new FlatPlan.Entry(FAR + 3 * P, 1, PRESENT)),
        DumpedMemory.entries(flat.resolve("pagemap-" + IMAGE_PID + ".img")));
    assertEquals(List.of(new FlatPlan.Entry(BASE + 16 * P, 1, PRESENT)), DumpedMemory.entries(parent.resolve("pagemap-" + IMAGE_PID + ".img")));
    assertArrayEquals(page(9), Files.readAllBytes(parent.resolve("pages-1.img")));
    assertEquals(20 * P, Files.size(flat.resolve("pages-1.img")), "the layout file: held pages only");
  }

  @Test
  void aDumpTheLayoutCannotDescribeFallsBackAndChangesNothing() throws Exception {
    // BASE 15 held but gone from the dump and from every VMA (munmapped since)
    vmas(vma(BASE, BASE + 15 * P, 0x22, 1 | (1 << 9)), vma(FAR, FAR + 16 * P, 0x22, 1 | (1 << 9)));
    finalImages(List.of(e(BASE, 2, PARENT), e(BASE + 2 * P, 1, PRESENT), e(BASE + 3 * P, 12, PARENT), e(FAR, 4, PARENT)), page(9));
    byte[] before = Files.readAllBytes(store.parentLayout(PID).pagesFile());

    FlatTop.Fallback f = assertInstanceOf(FlatTop.Fallback.class, FlatTop.build(store.directory(), store, true));

    assertTrue(f.reason().contains("outside every VMA") && f.reason().contains("pid " + PID), f.reason());
    assertFalse(Files.exists(store.directory().resolve("flat")));
    assertArrayEquals(before, Files.readAllBytes(store.parentLayout(PID).pagesFile()), "the parent's pages untouched");
  }

  @Test
  void aHeldPageInAFileMappingTheDumpDropsFallsBack() throws Exception {
    vmas(vma(BASE, BASE + 64 * P, 0x02, 1 | (1 << 6)), vma(FAR, FAR + 16 * P, 0x22, 1 | (1 << 9)));
    finalImages(List.of(e(BASE, 15, PARENT), e(FAR, 4, PARENT)));
    FlatTop.Fallback f = assertInstanceOf(FlatTop.Fallback.class, FlatTop.build(store.directory(), store, true));
    assertTrue(f.reason().contains("not private anonymous"), f.reason());
  }

  @Test
  void anotherPagemapTakingFromTheParentFallsBack() throws Exception {
    finalImages(List.of(e(BASE, 16, PARENT), e(FAR, 4, PARENT)));
    CriuImageFile.write(fin.resolve("pagemap-shmem-7.img"), CriuMagic.PAGEMAP,
        List.of(PagemapHead.newBuilder().setPagesId(2).build(), e(0, 1, PARENT)));
    FlatTop.Fallback f = assertInstanceOf(FlatTop.Fallback.class, FlatTop.build(store.directory(), store, true));
    assertTrue(f.reason().contains("pagemap-shmem-7.img"), f.reason());
  }

  @Test
  void unreadableImagesFallBackWithTheReason() throws Exception {
    finalImages(List.of(e(BASE, 16, PARENT), e(FAR, 4, PARENT)));
    Files.writeString(fin.resolve("mm-" + IMAGE_PID + ".img"), "garbage");
    FlatTop.Fallback f = assertInstanceOf(FlatTop.Fallback.class, FlatTop.build(store.directory(), store, true));
    assertTrue(f.reason().contains("mm-1.img"), f.reason());
  }

  @Test
  void theWarmUpLeavesNothingBehind() {
    Path scratch = dir.resolve("warm");
    FlatTop.warmUp(scratch);
    assertFalse(Files.exists(scratch));
  }

  @Test
  void aPreparedDirWhereTheDaemonListensIsKept() throws Exception {
    finalImages(List.of(e(BASE, 16, PARENT), e(FAR, 4, PARENT)));
    assertTrue(FlatTop.prepareDir(store.directory()));
    Path flat = store.directory().resolve("flat");
    assertTrue(Files.isSymbolicLink(flat.resolve("pstree.img")) && Files.isSymbolicLink(flat.resolve("mm-1.img"))
        && Files.isSymbolicLink(flat.resolve("core-1.img")), "what the daemon may read when it starts");
    assertFalse(Files.exists(flat.resolve("pagemap-1.img")) || Files.exists(flat.resolve("pages-1.img")) || Files.exists(flat.resolve("parent"),
        java.nio.file.LinkOption.NOFOLLOW_LINKS), "pagemaps and pages are the build's");
    Files.writeString(flat.resolve("lazy-pages.socket"), ""); // stands for the daemon's socket
    assertInstanceOf(FlatTop.Built.class, FlatTop.build(store.directory(), store, true, true));
    assertTrue(Files.exists(flat.resolve("lazy-pages.socket")), "the listening daemon's socket survives the build");
    assertTrue(Files.isSymbolicLink(flat.resolve("pstree.img")) && Files.exists(flat.resolve("pagemap-1.img")));
  }

  @Test
  void aLayoutFileShorterThanItsSlotsIsNeverWrittenPastItsEnd() throws Exception {
    finalImages(List.of(e(BASE, 2, PARENT), e(BASE + 2 * P, 1, PRESENT), e(BASE + 3 * P, 13, PARENT), e(FAR, 4, PARENT)), page(9));
    Path layout = store.parentLayout(PID).pagesFile();
    try (var ch = java.nio.channels.FileChannel.open(layout, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(2 * P); // damaged: the copy to page 2 would land past its end
    }
    FlatTop.Fallback f = assertInstanceOf(FlatTop.Fallback.class, FlatTop.build(store.directory(), store, true));
    assertTrue(f.reason().contains("runs past the layout file"), f.reason());
    assertEquals(2 * P, Files.size(layout), "not extended");
  }

  @Test
  void noDirIsPreparedWithoutAPstreeImage() throws Exception {
    Files.delete(fin.resolve("pstree.img"));
    assertFalse(FlatTop.prepareDir(store.directory()));
    assertFalse(Files.exists(store.directory().resolve("flat")));
  }
}
