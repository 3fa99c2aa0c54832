package dev.ferry.agent.criu.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.transfer.PageTable;
import dev.ferry.proto.AddressRange;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.criu.DumpStatsEntry;
import dev.ferry.proto.criu.InventoryEntry;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import dev.ferry.proto.criu.StatsEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CRIU image framing written from the format; crit (CRIU's own decoder) must read it. */
class ParentImagesTest {
  static final int PID = 777;
  static final long BASE = 0x7f1000000000L;

  @Test
  void storeImagesRoundTripAndCritDecodesThem(@TempDir Path dir) throws Exception {
    PageHashing hashing = new PageHashing();
    PageStore store = new PageStores(dir, hashing).openOrCreate("m").store();
    ProcessAreas areas = ProcessAreas.newBuilder().setPid(PID)
        .addAreas(AddressRange.newBuilder().setStart(BASE).setEnd(BASE + 64 * 4096))
        .addAreas(AddressRange.newBuilder().setStart(BASE + 128 * 4096).setEnd(BASE + 130 * 4096)).build();
    RoundWriter w = store.beginRound(1, List.of(areas));
    ByteBuffer data = ByteBuffer.allocateDirect(4 * 4096);
    for (int i = 0; i < data.capacity(); i++) {
      data.put(i, (byte) (i / 4096 + 1));
    }
    w.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(2).build(),
        PageRun.newBuilder().setAddress(BASE + 2 * 4096).setPages(3).setZero(true).build(),
        PageRun.newBuilder().setAddress(BASE + 128 * 4096).setPages(2).build()), data);
    w.commit(1, 7);

    Path parent = dir.resolve("parent");
    ParentImages.Written written = ParentImages.writeFromStore(store, parent, pid -> 1);
    assertEquals(7, written.pages());

    CriuImageFile.Image inventory = CriuImageFile.read(parent.resolve("inventory.img"));
    InventoryEntry inv = CriuImageFile.entry(inventory, 0, InventoryEntry.parser());
    assertEquals(2, inv.getImgVersion());
    assertTrue(inv.getDumpUptime() > 0);
    CriuImageFile.Image pagemap = CriuImageFile.read(parent.resolve("pagemap-1.img"));
    assertEquals(CriuMagic.PAGEMAP, pagemap.magic());
    assertEquals(1, CriuImageFile.entry(pagemap, 0, PagemapHead.parser()).getPagesId());
    PagemapEntry e1 = CriuImageFile.entry(pagemap, 1, PagemapEntry.parser());
    PagemapEntry e2 = CriuImageFile.entry(pagemap, 2, PagemapEntry.parser());
    assertEquals(BASE, e1.getVaddr());
    assertEquals(5, e1.getNrPages(), "data and zero pages are one run in the parent");
    assertEquals(ParentImages.PE_PRESENT, e1.getFlags());
    assertEquals(BASE + 128 * 4096, e2.getVaddr());
    byte[] pages = Files.readAllBytes(parent.resolve("pages-1.img"));
    assertEquals(7 * 4096, pages.length);
    assertEquals(1, pages[0]);
    assertEquals(0, pages[3 * 4096], "zero pages written as zeros");
    assertEquals(3, pages[5 * 4096], "pages in pagemap order");

    // The source's variant: same pagemap from its ledger, no pages.
    PageTable ledger = new PageTable(false);
    store.forEachPage(PID, (address, hash, location) -> ledger.put(PID, address, hash, 0));
    Path sourceParent = dir.resolve("source-parent");
    ParentImages.writeFromLedger(ledger, sourceParent, pid -> 1);
    assertEquals(Files.readAllBytes(parent.resolve("pagemap-1.img")).length,
        Files.readAllBytes(sourceParent.resolve("pagemap-1.img")).length);
    assertTrue(Files.notExists(sourceParent.resolve("pages-1.img")));

    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/crit")), "crit (Debian package criu) is not installed");
    String json = crit("decode", "--pretty", "-i", parent.resolve("pagemap-1.img").toString());
    assertTrue(json.contains("\"magic\": \"PAGEMAP\""), json);
    assertTrue(json.contains("\"pages_id\": 1"), json);
    assertTrue(json.contains("\"vaddr\": \"0x7f1000000000\""), json);
    assertTrue(json.contains("PE_PRESENT"), json);
    assertTrue(json.contains("\"nr_pages\": 5"), json);
    String inventoryJson = crit("decode", "-i", parent.resolve("inventory.img").toString());
    assertTrue(inventoryJson.contains("\"img_version\": 2"), inventoryJson);
  }

  @Test
  void dumpStatsAreReadFromAnImageCritEncoded(@TempDir Path dir) throws Exception {
    // Our writer framed as CRIU's service image; read back; crit agrees.
    Path stats = dir.resolve("stats-dump");
    StatsEntry entry = StatsEntry.newBuilder().setDump(DumpStatsEntry.newBuilder().setFreezingTime(1).setFrozenTime(2)
        .setMemdumpTime(3).setMemwriteTime(4).setPagesScanned(1000).setPagesSkippedParent(900).setPagesWritten(100)
        .setPagesLazy(0)).build();
    CriuImageFile.write(stats, CriuMagic.STATS, List.of(entry));
    DumpStatsEntry read = DumpStats.read(stats);
    assertEquals(900, read.getPagesSkippedParent());
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/crit")), "crit (Debian package criu) is not installed");
    String json = crit("decode", "-i", stats.toString());
    assertTrue(json.contains("\"pages_skipped_parent\": 900"), json);
  }

  static String crit(String... args) throws Exception {
    String[] command = new String[args.length + 1];
    command[0] = "crit";
    System.arraycopy(args, 0, command, 1, args.length);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "crit " + String.join(" ", args) + ": " + out);
    return out;
  }
}
