package dev.ferry.agent.transfer;

import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * The direct buffers one migration's sender reuses round after round: one batch of pages
 * (page-aligned) and one LZ4 output buffer. Allocated once, so the heap stays flat whatever the
 * process size. Confined to the migration's round thread.
 */
public final class SenderBuffers {
  private final ByteBuffer batch = AlignedBuffers.allocate(RoundSender.BATCH_PAGES * PageHashing.PAGE);
  private final LZ4Compressor lz4 = LZ4Factory.fastestInstance().fastCompressor();
  private final ByteBuffer compressed = ByteBuffer.allocateDirect(lz4.maxCompressedLength(RoundSender.BATCH_PAGES * PageHashing.PAGE));

  ByteBuffer batch() {
    return batch;
  }

  ByteBuffer compressed() {
    return compressed;
  }

  LZ4Compressor lz4() {
    return lz4;
  }
}
