package dev.ferry.agent.transfer;

import dev.ferry.proto.PageRun;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The CRC32C of a page batch: over the run list encoding (per run: address u64, pages u32, zero
 * u8, little-endian) and then the uncompressed data. Sender and receiver compute it the same way;
 * the receiver refuses a batch whose CRC differs (DATA_LOSS).
 *
 * <p>Both sides build it from the per-page CRCs they compute anyway ({@link Accumulator}), so the
 * data is not read a second time; {@link #of(List, ByteBuffer)} reads it, for tests and tools.
 */
public final class BatchChecksum {
  private static final Crc32cCombine PAGES = new Crc32cCombine(PageHashing.PAGE);

  private BatchChecksum() {}

  /** CRC32C of {@code runs} and {@code data} (position to limit; position untouched). */
  public static int of(List<PageRun> runs, ByteBuffer data) {
    CRC32C crc = new CRC32C();
    crc.update(data.duplicate());
    return of(runs, (int) crc.getValue(), data.remaining());
  }

  /** CRC32C of {@code runs} followed by data whose own CRC32C is {@code dataCrc}. */
  public static int of(List<PageRun> runs, int dataCrc, long dataLength) {
    CRC32C crc = new CRC32C();
    ByteBuffer enc = ByteBuffer.allocate(13 * Math.max(1, runs.size())).order(ByteOrder.LITTLE_ENDIAN);
    for (PageRun run : runs) {
      enc.putLong(run.getAddress()).putInt(run.getPages()).put((byte) (run.getZero() ? 1 : 0));
    }
    enc.flip();
    crc.update(enc);
    return Crc32cCombine.combine((int) crc.getValue(), dataCrc, dataLength);
  }

  /** The running CRC32C of a batch's data, page by page. Confined to one thread. */
  public static final class Accumulator {
    private int crc;
    private long length;

    /** Appends the page whose {@link PageHashing#contentHash content hash} is given. */
    public void addPage(long contentHash) {
      crc = PAGES.combine(crc, PageHashing.pageCrc(contentHash));
      length += PageHashing.PAGE;
    }

    public int dataCrc() {
      return crc;
    }

    public long length() {
      return length;
    }

    public void reset() {
      crc = 0;
      length = 0;
    }
  }
}
