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
 */
public final class BatchChecksum {
  private BatchChecksum() {}

  /** CRC32C of {@code runs} and {@code data} (position to limit; position untouched). */
  public static int of(List<PageRun> runs, ByteBuffer data) {
    CRC32C crc = new CRC32C();
    ByteBuffer enc = ByteBuffer.allocate(13 * Math.max(1, runs.size())).order(ByteOrder.LITTLE_ENDIAN);
    for (PageRun run : runs) {
      enc.putLong(run.getAddress()).putInt(run.getPages()).put((byte) (run.getZero() ? 1 : 0));
    }
    enc.flip();
    crc.update(enc);
    crc.update(data.duplicate());
    return (int) crc.getValue();
  }
}
