package dev.ferry.agent.transfer;

import dev.ferry.agent.tracking.Lz4JavaLibrary;
import net.jpountz.lz4.LZ4Compressor;

/**
 * The buffers one migration's sender reuses round after round: one batch of pages and one LZ4
 * output buffer, 1 MiB each. Heap arrays on purpose: protobuf wraps a byte[] without a copy but
 * copies a direct buffer into a fresh array (protobuf 4.x). Allocated once, so the heap stays
 * flat whatever the process size. Confined to the migration's round thread.
 */
public final class SenderBuffers {
  private final byte[] batch = new byte[RoundSender.BATCH_PAGES * PageHashing.PAGE];
  /**
   * Created on first use, i.e. only when a migration asks for LZ4: loading lz4-java's native
   * library killed the agent with SIGILL on a CPU without BMI2 (the lab VM's Nehalem model) even
   * for migrations that never compress.
   */
  private LZ4Compressor lz4;
  private byte[] compressed;

  byte[] batch() {
    return batch;
  }

  byte[] compressed() {
    lz4();
    return compressed;
  }

  LZ4Compressor lz4() {
    if (lz4 == null) {
      lz4 = Lz4JavaLibrary.lz4().fastCompressor();
      compressed = new byte[lz4.maxCompressedLength(RoundSender.BATCH_PAGES * PageHashing.PAGE)];
    }
    return lz4;
  }
}
