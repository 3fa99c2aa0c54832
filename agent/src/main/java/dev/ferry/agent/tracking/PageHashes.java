package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.PageSize;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The content-hash tracker's memory: one 64-bit XXH64 per copyable page (8 bytes per page, the
 * bound), laid out as one array per area. 0 means "not sent yet" (a real hash of 0 is stored as
 * 1), so a page is dirty when its hash differs from the stored one.
 *
 * <p>Confined to the session thread.
 */
final class PageHashes implements PageFilter {
  private static final long SEED = 0x9E3779B97F4A7C15L;

  private final XXHash64 xxh = XXHashFactory.fastestJavaInstance().hash64();
  private final Map<Integer, Segments> byPid = new HashMap<>();

  private static final class Segments {
    final long[] starts;
    final long[][] hashes;
    int cursor;

    Segments(long[] starts, long[][] hashes) {
      this.starts = starts;
      this.hashes = hashes;
    }

    /** Index of the segment holding address, or -1. Pages come in ascending order: cursor first. */
    int find(long address) {
      if (cursor < starts.length && holds(cursor, address)) {
        return cursor;
      }
      int i = Arrays.binarySearch(starts, address);
      if (i < 0) {
        i = -i - 2;
      }
      if (i >= 0 && holds(i, address)) {
        cursor = i;
        return i;
      }
      return -1;
    }

    boolean holds(int i, long address) {
      long off = address - starts[i];
      return off >= 0 && (off >>> PageSize.SHIFT) < hashes[i].length;
    }
  }

  /**
   * Lays out the hashes of {@code pid} for its current areas, keeping the hashes of pages that
   * were already in an area; pages of vanished areas are forgotten.
   */
  void retain(int pid, List<AddressRange> areas) {
    Segments old = byPid.get(pid);
    long[] starts = new long[areas.size()];
    long[][] hashes = new long[areas.size()][];
    for (int i = 0; i < areas.size(); i++) {
      AddressRange a = areas.get(i);
      int pages = (int) (a.bytes() >>> PageSize.SHIFT);
      starts[i] = a.start();
      int same = old == null ? -1 : Arrays.binarySearch(old.starts, a.start());
      if (same >= 0 && old.hashes[same].length == pages) {
        hashes[i] = old.hashes[same];
        continue;
      }
      long[] h = new long[pages];
      if (old != null) {
        for (int k = 0; k < old.starts.length; k++) {
          long os = old.starts[k];
          long oe = os + ((long) old.hashes[k].length << PageSize.SHIFT);
          long from = Math.max(os, a.start());
          long to = Math.min(oe, a.end());
          if (from < to) {
            System.arraycopy(old.hashes[k], (int) ((from - os) >>> PageSize.SHIFT), h,
                (int) ((from - a.start()) >>> PageSize.SHIFT), (int) ((to - from) >>> PageSize.SHIFT));
          }
        }
      }
      hashes[i] = h;
    }
    byPid.put(pid, new Segments(starts, hashes));
  }

  void forget(int pid) {
    byPid.remove(pid);
  }

  /** Forgets everything: the next round sends every page (after a failed copy). */
  void clear() {
    byPid.clear();
  }

  /** Bytes held by the hash arrays. */
  long bytes() {
    long b = 0;
    for (Segments s : byPid.values()) {
      for (long[] h : s.hashes) {
        b += 8L * h.length;
      }
    }
    return b;
  }

  /** Pids with hashes; for figures. */
  List<Integer> pids() {
    return new ArrayList<>(byPid.keySet());
  }

  @Override
  public void select(int pid, ByteBuffer data, long[] addresses, int n, boolean[] keep) {
    Segments s = byPid.get(pid);
    for (int i = 0; i < n; i++) {
      long h = xxh.hash(data, i << PageSize.SHIFT, PageSize.BYTES, SEED);
      if (h == 0) {
        h = 1;
      }
      int seg = s == null ? -1 : s.find(addresses[i]);
      if (seg < 0) {
        keep[i] = true; // outside known areas (cannot happen after retain): send it
        continue;
      }
      int slot = (int) ((addresses[i] - s.starts[seg]) >>> PageSize.SHIFT);
      keep[i] = s.hashes[seg][slot] != h;
      s.hashes[seg][slot] = h;
    }
  }
}
