package dev.ferry.agent.criu;

import dev.ferry.agent.tracking.PageSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * The lab test's destination store: the latest content of every page received, in memory. A
 * stand-in for the transfer's on-disk store, with the same two faces: a PageSink for the rounds
 * and a PageSource for the parent image.
 */
final class MemoryPageStore implements PageSink, ParentImages.PageSource {
  private static final int PAGE = 4096;
  private static final byte[] ZERO = new byte[PAGE];
  private final Map<Integer, Map<Long, byte[]>> pages = new HashMap<>();

  @Override
  public void pages(int pid, long address, int count, ByteBuffer data) {
    Map<Long, byte[]> m = pages.computeIfAbsent(pid, k -> new HashMap<>());
    for (int i = 0; i < count; i++) {
      byte[] p = new byte[PAGE];
      data.get(p);
      m.put(address + (long) i * PAGE, p);
    }
  }

  @Override
  public void zeroPages(int pid, long address, int count) {
    Map<Long, byte[]> m = pages.computeIfAbsent(pid, k -> new HashMap<>());
    for (int i = 0; i < count; i++) {
      m.put(address + (long) i * PAGE, ZERO);
    }
  }

  @Override
  public void copyTo(int pid, long address, int count, WritableByteChannel out) throws IOException {
    Map<Long, byte[]> m = pages.getOrDefault(pid, Map.of());
    for (int i = 0; i < count; i++) {
      byte[] p = m.get(address + (long) i * PAGE);
      if (p == null) {
        throw new IOException("store lacks page " + Long.toHexString(address + (long) i * PAGE) + " of pid " + pid);
      }
      ByteBuffer b = ByteBuffer.wrap(p);
      while (b.hasRemaining()) {
        out.write(b);
      }
    }
  }
}
