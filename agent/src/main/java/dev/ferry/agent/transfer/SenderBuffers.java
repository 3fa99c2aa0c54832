package dev.ferry.agent.transfer;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * The buffers one migration's sender reuses round after round: one batch of pages and one LZ4
 * output buffer, 1 MiB each. Heap arrays on purpose: protobuf wraps a byte[] without a copy but
 * copies a direct buffer into a fresh array (protobuf 4.x). Allocated once, so the heap stays
 * flat whatever the process size. Confined to the migration's round thread.
 */
public final class SenderBuffers {
  private final byte[] batch = new byte[RoundSender.BATCH_PAGES * PageHashing.PAGE];
  private final LZ4Compressor lz4 = LZ4Factory.fastestInstance().fastCompressor();
  private final byte[] compressed = new byte[lz4.maxCompressedLength(RoundSender.BATCH_PAGES * PageHashing.PAGE)];

  byte[] batch() {
    return batch;
  }

  byte[] compressed() {
    return compressed;
  }

  LZ4Compressor lz4() {
    return lz4;
  }
}
