package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.PageSize;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jpountz.xxhash.XXHash64;

/**
 * The content-hash tracker's memory: one 64-bit XXH64 per copyable page (8 bytes per page, the
 * bound), laid out as one array per area. 0 means "not sent yet" (a real hash of 0 is stored as
 * 1), so a page is dirty when its hash differs from the stored one.
 *
 * <p>Confined to the session thread.
 */
final class PageHashes implements PageFilter, ProcessScanner.Holes {
  private static final long SEED = 0x9E3779B97F4A7C15L;

  // The JNI instance hashes a direct buffer in place; the pure-Java one (fastestJavaInstance)
  // reads it a long at a time through bounds-checked accessors: profiled at 14 % of the source's
  // round thread on a first round, several times the native cost. Same XXH64 values. The JNI
  // library needs an x86-64-v3 CPU (Lz4JavaLibrary).
  private final XXHash64 xxh = Lz4JavaLibrary.xxhash().hash64();
  private final Map<Integer, Segments> byPid = new HashMap<>();
  /** What a page sent as a zero flag is recorded as: the hash of an all-zero page. */
  private final long zeroPageHash = pageHash(ByteBuffer.allocate(PageSize.BYTES), 0);

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
      long h = pageHash(data, i << PageSize.SHIFT);
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

  private long pageHash(ByteBuffer data, int offset) {
    long h = xxh.hash(data, offset, PageSize.BYTES, SEED);
    return h == 0 ? 1 : h;
  }

  /**
   * A hole of a private anonymous area (not present, not swapped: the process reads zeros) must
   * go out as a zero flag when the destination was sent other contents for that page (it was
   * dropped with MADV_DONTNEED since); it is then recorded as a zero page, so it goes out once.
   * Called while decoding, before {@link #retain} of the round (the previous layout's slots).
   */
  @Override
  public boolean zeroed(int pid, long address) {
    Segments s = byPid.get(pid);
    int seg = s == null ? -1 : s.find(address);
    if (seg < 0) {
      return false; // never sent
    }
    int slot = (int) ((address - s.starts[seg]) >>> PageSize.SHIFT);
    long h = s.hashes[seg][slot];
    if (h == 0 || h == zeroPageHash) {
      return false;
    }
    s.hashes[seg][slot] = zeroPageHash;
    return true;
  }
}
