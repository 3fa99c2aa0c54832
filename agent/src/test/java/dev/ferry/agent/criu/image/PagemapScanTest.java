package dev.ferry.agent.criu.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import dev.ferry.proto.criu.StatsEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The allocation-free pagemap reader agrees with the generic image reader + protobuf parser. */
class PagemapScanTest {
  @TempDir Path dir;

  @Test
  void seesWhatTheProtobufParserSees() throws Exception {
    Random rnd = new Random(7);
    List<com.google.protobuf.MessageLite> entries = new ArrayList<>();
    entries.add(PagemapHead.newBuilder().setPagesId(3).build());
    long a = 0x7f0000000000L;
    for (int i = 0; i < 2000; i++) {
      a += (1 + rnd.nextInt(50)) * 4096L;
      PagemapEntry.Builder e = PagemapEntry.newBuilder().setVaddr(a).setNrPages(1 + rnd.nextInt(300));
      switch (i % 4) {
        case 0 -> e.setFlags(1);
        case 1 -> e.setFlags(4 | 2);
        case 2 -> e.setInParent(true);
        default -> e.setFlags(4);
      }
      entries.add(e.build());
    }
    Path f = dir.resolve("pagemap-1.img");
    CriuImageFile.write(f, CriuMagic.PAGEMAP, entries);

    List<String> scanned = new ArrayList<>();
    PagemapScan.forEach(f, (vaddr, nr, flags, inParent) -> scanned.add(vaddr + "/" + nr + "/" + flags + "/" + inParent));
    List<String> parsed = new ArrayList<>();
    CriuImageFile.Image image = CriuImageFile.read(f);
    for (int i = 1; i < image.entries().size(); i++) {
      PagemapEntry e = CriuImageFile.entry(image, i, PagemapEntry.parser());
      parsed.add(e.getVaddr() + "/" + Integer.toUnsignedLong(e.getNrPages()) + "/" + e.getFlags() + "/"
          + (e.getInParent() || (e.getFlags() & 1) != 0));
    }
    assertEquals(parsed, scanned);
  }

  @Test
  void refusesAnotherImage() throws Exception {
    Path f = dir.resolve("stats-dump");
    CriuImageFile.write(f, CriuMagic.STATS, List.of(StatsEntry.getDefaultInstance()));
    assertThrows(IOException.class, () -> PagemapScan.forEach(f, (v, n, fl, p) -> {}));
  }
}
