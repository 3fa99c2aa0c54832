package dev.ferry.agent.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ferry.proto.PageRun;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** Pure unit: combined CRCs equal the CRC32C of the concatenated bytes, as the JDK computes it. */
class Crc32cCombineTest {
  private static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  @Test
  void combineEqualsTheCrcOfTheConcatenation() {
    Random random = new Random(42);
    for (int trial = 0; trial < 200; trial++) {
      byte[] b = new byte[1 + random.nextInt(20000)];
      random.nextBytes(b);
      int split = random.nextInt(b.length + 1);
      int whole = crc(b, 0, b.length);
      assertEquals(whole, Crc32cCombine.combine(crc(b, 0, split), crc(b, split, b.length - split), b.length - split));
      assertEquals(whole, new Crc32cCombine(b.length - split).combine(crc(b, 0, split), crc(b, split, b.length - split)));
    }
  }

  @Test
  void pageCrcAndBatchAccumulatorMatchAPlainCrc() {
    Random random = new Random(7);
    PageHashing hashing = new PageHashing();
    byte[] data = new byte[5 * PageHashing.PAGE];
    random.nextBytes(data);
    data[PageHashing.PAGE * 2] = 0;
    BatchChecksum.Accumulator acc = new BatchChecksum.Accumulator();
    for (int p = 0; p < 5; p++) {
      long content = hashing.contentHash(data, p * PageHashing.PAGE);
      assertEquals(content, hashing.contentHash(ByteBuffer.wrap(data), p * PageHashing.PAGE));
      ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
      assertEquals(content, hashing.contentHash(direct, p * PageHashing.PAGE));
      assertEquals(crc(data, p * PageHashing.PAGE, PageHashing.PAGE), PageHashing.pageCrc(content));
      acc.addPage(content);
    }
    List<PageRun> runs = List.of(PageRun.newBuilder().setAddress(0x7000_0000L).setPages(5).build(),
        PageRun.newBuilder().setAddress(0x7100_0000L).setPages(3).setZero(true).build());
    assertEquals(BatchChecksum.of(runs, ByteBuffer.wrap(data)), BatchChecksum.of(runs, acc.dataCrc(), acc.length()));
    data[3 * PageHashing.PAGE + 100] ^= 1;
    assertNotEquals(BatchChecksum.of(runs, ByteBuffer.wrap(data)), BatchChecksum.of(runs, acc.dataCrc(), acc.length()));
    assertEquals(crc(new byte[PageHashing.PAGE], 0, PageHashing.PAGE), PageHashing.pageCrc(hashing.zeroContentHash()));
  }
}
