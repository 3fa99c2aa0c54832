package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.tracking.AddressRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parent images and stats reader against crit, CRIU's own encoder/decoder. */
class CriuImagesTest {
  @TempDir Path dir;

  private static final ParentSnapshot SNAPSHOT = new ParentSnapshot(Duration.ofMillis(123_456),
      List.of(
          new ParentSnapshot.Process(4242, 1, List.of(new AddressRange(0x400000, 0x402000), new AddressRange(0x7fff0000f000L, 0x7fff00010000L))),
          new ParentSnapshot.Process(4243, 2, List.of(new AddressRange(0x10000, 0x11000)))));

  @Test
  void critDecodesTheParentInventoryAndPagemaps() throws Exception {
    Crit.assumePresent();
    new MinimalParentImages().writePagemaps(dir, SNAPSHOT);

    String inventory = Crit.decode(dir.resolve("inventory.img")).replace(" ", "");
    assertTrue(inventory.contains("\"magic\":\"INVENTORY\""), inventory);
    assertTrue(inventory.contains("\"img_version\":2"), inventory);
    assertTrue(inventory.contains("\"dump_uptime\":123456000"), inventory);

    String pm1 = Crit.decode(dir.resolve("pagemap-1.img")).replace(" ", "");
    assertTrue(pm1.contains("\"magic\":\"PAGEMAP\""), pm1);
    assertTrue(pm1.contains("{\"pages_id\":1}"), pm1);
    assertTrue(pm1.contains("{\"vaddr\":4194304,\"nr_pages\":2,\"flags\":4}"), pm1);
    assertTrue(pm1.contains("{\"vaddr\":140733193449472,\"nr_pages\":1,\"flags\":4}"), pm1);
    String pm2 = Crit.decode(dir.resolve("pagemap-2.img")).replace(" ", "");
    assertTrue(pm2.contains("{\"pages_id\":2}"), pm2);
    assertFalse(Files.exists(dir.resolve("pages-1.img")), "the source side writes no page data");
  }

  @Test
  void pagesAreWrittenInPagemapOrderFromTheSource() throws IOException {
    new MinimalParentImages().writePages(dir, SNAPSHOT, (pid, address, pages, out) -> {
      ByteBuffer b = ByteBuffer.allocate(pages * 4096);
      for (int i = 0; i < pages; i++) {
        b.putLong(i * 4096, pid * 1_000_000_000L + address + i * 4096L);
      }
      while (b.hasRemaining()) {
        out.write(b);
      }
    });
    ByteBuffer p1 = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("pages-1.img")));
    assertEquals(3 * 4096, p1.capacity());
    assertEquals(4242_000_000_000L + 0x400000, p1.getLong(0));
    assertEquals(4242_000_000_000L + 0x401000, p1.getLong(4096));
    assertEquals(4242_000_000_000L + 0x7fff0000f000L, p1.getLong(8192));
    assertEquals(4096, Files.size(dir.resolve("pages-2.img")));
  }

  @Test
  void statsDumpFromCritIsRead() throws Exception {
    Crit.assumePresent();
    Crit.encode("{\"magic\":\"STATS\",\"entries\":[{\"dump\":{\"freezing_time\":23817,\"frozen_time\":4328010,"
        + "\"memdump_time\":1288693,\"memwrite_time\":897519,\"pages_scanned\":24849,\"pages_skipped_parent\":2820,"
        + "\"pages_written\":13641,\"irmap_resolve\":0,\"pages_lazy\":0}}]}", dir.resolve("stats-dump"));
    DumpStats s = DumpStats.read(dir);
    assertEquals(new DumpStats(Duration.ofNanos(23_817_000), Duration.ofNanos(4_328_010_000L), Duration.ofNanos(1_288_693_000),
        Duration.ofNanos(897_519_000), 24849, 2820, 13641), s);
    assertTrue(s.parentUsed());
  }

  @Test
  void aFullDumpSaysTheParentWasNotUsed() throws Exception {
    Crit.assumePresent();
    Crit.encode("{\"magic\":\"STATS\",\"entries\":[{\"dump\":{\"freezing_time\":1,\"frozen_time\":2,\"memdump_time\":3,"
        + "\"memwrite_time\":4,\"pages_scanned\":100,\"pages_skipped_parent\":0,\"pages_written\":90,\"pages_lazy\":0}}]}",
        dir.resolve("stats-dump"));
    assertFalse(DumpStats.read(dir).parentUsed());
  }

  @Test
  void aTruncatedOrForeignStatsImageIsAnError() throws IOException {
    Files.write(dir.resolve("stats-dump"), new byte[] {0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0x21, 0, 0, 0, 0x0a});
    assertThrows(IOException.class, () -> DumpStats.read(dir));
    dev.ferry.agent.criu.image.CriuImageFile.write(dir.resolve("stats-dump"), dev.ferry.agent.criu.image.CriuMagic.PAGEMAP, List.of());
    IOException e = assertThrows(IOException.class, () -> DumpStats.read(dir));
    assertTrue(e.getMessage().contains("not stats"), e.getMessage());
  }

  @Test
  void imagePidsTravelWithTheFinalImages() throws IOException {
    new ImagePids(Map.of(4242, 1, 4243, 2)).write(dir);
    ImagePids back = ImagePids.read(dir);
    assertEquals(1, back.imagePid(4242));
    assertEquals(2, back.imagePid(4243));
    assertThrows(IOException.class, () -> back.imagePid(9));
    Files.writeString(dir.resolve(ImagePids.FILE), "4242 x\n");
    assertThrows(IOException.class, () -> ImagePids.read(dir));
  }

  @Test
  void snapshotRejectsUnsortedOrUnalignedRuns() {
    assertThrows(IllegalArgumentException.class, () -> new ParentSnapshot.Process(1, 1,
        List.of(new AddressRange(0x2000, 0x3000), new AddressRange(0x1000, 0x2000))));
    assertThrows(IllegalArgumentException.class, () -> new ParentSnapshot.Process(1, 1, List.of(new AddressRange(0x1001, 0x2000))));
  }
}
