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

  /** An image of the head {pages_id 1} and one entry whose body is {@code body}. */
  private Path withEntryBody(byte[] body) throws Exception {
    byte[] head = PagemapHead.newBuilder().setPagesId(1).build().toByteArray();
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + 4 + head.length + 4 + body.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putInt(CriuMagic.IMG_COMMON).putInt(CriuMagic.PAGEMAP.magic()).putInt(head.length).put(head).putInt(body.length).put(body);
    Path f = dir.resolve("pagemap-raw.img");
    java.nio.file.Files.write(f, b.array());
    return f;
  }

  @Test
  void skipsFieldsItDoesNotKnowOfEveryWireType() throws Exception {
    byte[] known = PagemapEntry.newBuilder().setVaddr(0x7f0000001000L).setNrPages(3).setFlags(4).build().toByteArray();
    byte[] unknown = {
        (5 << 3) | 2, 3, 9, 9, 9, // field 5, length-delimited, 3 bytes
        (6 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, // field 6, fixed64
        (7 << 3) | 5, 1, 2, 3, 4, // field 7, fixed32
        (8 << 3), (byte) 0x96, 1}; // field 8, varint 150
    byte[] body = new byte[unknown.length + known.length];
    System.arraycopy(unknown, 0, body, 0, unknown.length);
    System.arraycopy(known, 0, body, unknown.length, known.length);
    List<String> scanned = new ArrayList<>();
    PagemapScan.forEach(withEntryBody(body), (vaddr, nr, flags, inParent) -> scanned.add(Long.toHexString(vaddr) + "/" + nr + "/" + flags + "/" + inParent));
    assertEquals(List.of("7f0000001000/3/4/false"), scanned);
  }

  @Test
  void refusesAnEntryWhoseFieldRunsPastItsEnd() throws Exception {
    byte[] truncatedVarint = {(1 << 3), (byte) 0x80, (byte) 0x80};
    assertThrows(IOException.class, () -> PagemapScan.forEach(withEntryBody(truncatedVarint), (v, n, fl, p) -> {}));
    byte[] longerThanTheEntry = {(5 << 3) | 2, 10, 1};
    assertThrows(IOException.class, () -> PagemapScan.forEach(withEntryBody(longerThanTheEntry), (v, n, fl, p) -> {}));
    byte[] groupWireType = {(5 << 3) | 3};
    assertThrows(IOException.class, () -> PagemapScan.forEach(withEntryBody(groupWireType), (v, n, fl, p) -> {}));
  }
}
