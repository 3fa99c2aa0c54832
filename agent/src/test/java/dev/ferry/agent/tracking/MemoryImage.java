package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.AreaKind;
import dev.ferry.agent.memory.MappedArea;
import dev.ferry.agent.memory.MapsReader;
import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.memory.PagemapReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The destination's view assembled from rounds: a PageSink that writes pages into a map, applies
 * removed areas, and can be compared byte for byte with a (frozen) process's memory.
 */
public final class MemoryImage implements PageSink {
  private static final byte[] ZERO = new byte[PageSize.BYTES];

  private final Map<Integer, TreeMap<Long, byte[]>> pages = new HashMap<>();
  /** Pages delivered during the current round (data or zero), per pid. */
  private final Map<Integer, Set<Long>> delivered = new HashMap<>();
  /** Pages delivered as zero flags during the current round, per pid. */
  private final Map<Integer, Set<Long>> zeroFlags = new HashMap<>();

  /** Applies a round's layouts (drops removed areas) and resets the per-round record. */
  public void beginRound(CapturedRound round) {
    delivered.clear();
    zeroFlags.clear();
    for (ProcessLayout p : round.processes()) {
      TreeMap<Long, byte[]> m = pages.computeIfAbsent(p.pid(), k -> new TreeMap<>());
      for (AddressRange r : p.removed()) {
        m.subMap(r.start(), r.end()).clear();
      }
    }
  }

  @Override
  public void pages(int pid, long address, int n, ByteBuffer data) {
    assertEquals((long) n * PageSize.BYTES, data.remaining(), "sink gets exactly n pages");
    for (int i = 0; i < n; i++) {
      byte[] page = new byte[PageSize.BYTES];
      data.get(page);
      put(pid, address + (long) i * PageSize.BYTES, page);
    }
  }

  @Override
  public void zeroPages(int pid, long address, int n) {
    for (int i = 0; i < n; i++) {
      put(pid, address + (long) i * PageSize.BYTES, ZERO);
      zeroFlags.computeIfAbsent(pid, k -> new HashSet<>()).add(address + (long) i * PageSize.BYTES);
    }
  }

  private void put(int pid, long address, byte[] page) {
    pages.computeIfAbsent(pid, k -> new TreeMap<>()).put(address, page);
    delivered.computeIfAbsent(pid, k -> new HashSet<>()).add(address);
  }

  /** Pages delivered as zero flags (no data) this round. */
  public Set<Long> zeroFlagsThisRound(int pid) {
    return zeroFlags.getOrDefault(pid, Set.of());
  }

  public Set<Long> deliveredThisRound(int pid) {
    return delivered.getOrDefault(pid, Set.of());
  }

  /**
   * Asserts that every page CRIU would dump from the (frozen) process equals the image, and that
   * the image holds nothing outside the process's copyable areas. Returns the pages compared.
   */
  public long assertEqualsProcess(int pid) throws Exception {
    TreeMap<Long, byte[]> image = pages.getOrDefault(pid, new TreeMap<>());
    long compared = 0;
    Set<Long> inAreas = new HashSet<>();
    ByteBuffer buf = ByteBuffer.allocate(PageSize.BYTES);
    try (PagemapReader pagemap = new PagemapReader(pid);
        FileChannel mem = FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"), StandardOpenOption.READ)) {
      for (MappedArea area : MapsReader.read(pid)) {
        AreaKind kind = AreaKind.of(area);
        if (!kind.copied()) {
          continue;
        }
        long[] entries = new long[(int) area.pages()];
        pagemap.read(area.start(), area.end(), (at, chunk, n) ->
            chunk.get(entries, (int) ((at - area.start()) / PageSize.BYTES), n));
        for (long a = area.start(); a < area.end(); a += PageSize.BYTES) {
          long e = entries[(int) ((a - area.start()) / PageSize.BYTES)];
          byte[] have = image.get(a);
          if (have != null) {
            inAreas.add(a);
          }
          if (!kind.copies(e) && !(have != null && kind == AreaKind.PRIVATE_ANONYMOUS)) {
            continue;
          }
          buf.clear();
          while (buf.hasRemaining()) {
            if (mem.read(buf, a + buf.position()) <= 0) {
              throw new IOException("short read of /proc/" + pid + "/mem at " + Long.toHexString(a));
            }
          }
          assertNotNull(have, "page " + Long.toHexString(a) + " of " + area.path() + " (" + kind + ") missing from the copy");
          assertArrayEquals(buf.array(), have, "page " + Long.toHexString(a) + " of pid " + pid + " differs");
          compared++;
        }
      }
    }
    for (Long a : image.keySet()) {
      assertTrue(inAreas.contains(a), "copy holds page " + Long.toHexString(a) + " outside every copyable area");
    }
    return compared;
  }
}
