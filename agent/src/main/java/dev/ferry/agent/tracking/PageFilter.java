package dev.ferry.agent.tracking;

import java.nio.ByteBuffer;

/**
 * Decides, after the read, which pages of a batch go to the sink (the content-hash tracker
 * drops pages whose hash did not change). Confined to the copy thread.
 */
interface PageFilter {
  /** Sets {@code keep[i]} for each of the {@code n} pages read into {@code data} at i * 4096. */
  void select(int pid, ByteBuffer data, long[] addresses, int n, boolean[] keep);

  PageFilter ALL = (pid, data, addresses, n, keep) -> java.util.Arrays.fill(keep, 0, n, true);
}
