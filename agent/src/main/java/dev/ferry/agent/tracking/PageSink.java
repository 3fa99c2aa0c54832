package dev.ferry.agent.tracking;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Receives the pages of one round's copy phase, in address order per process.
 *
 * <p>Called from the engine's copy thread only (never a gRPC or ZooKeeper thread), so an
 * implementation may block for flow control: that is how a bounded in-flight window pushes back
 * on the reader. The {@code data} buffer belongs to the engine and is valid only during the call
 * (copy it or finish with it before returning).
 */
public interface PageSink {

  /**
   * {@code pages} consecutive non-zero pages of process {@code pid} starting at {@code address};
   * {@code data} holds exactly {@code pages * 4096} bytes between position and limit, page
   * aligned in memory.
   */
  void pages(int pid, long address, int pages, ByteBuffer data) throws IOException, InterruptedException;

  /** {@code pages} consecutive all-zero pages: a flag on the wire, no data. */
  void zeroPages(int pid, long address, int pages) throws IOException, InterruptedException;
}
