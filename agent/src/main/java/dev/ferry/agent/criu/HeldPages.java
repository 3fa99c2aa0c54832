package dev.ferry.agent.criu;

import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.PageSink;
import dev.ferry.agent.tracking.ProcessLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The source's record of which pages the destination holds: every page sent in any round (zero
 * pages included: the destination holds them as zeros), minus areas that vanished. It becomes the
 * parent pagemap of the final dump, so it must be exact: a page CRIU finds clean but missing here
 * fails the dump ("Missing ... in parent pagemap"), a page listed here that the destination lacks
 * would restore stale memory.
 *
 * <p>Wrap the round's real sink with {@link #recording(PageSink)} and call {@link #layout} with
 * each round's process layouts before the copy. Confined to the thread that drives the rounds.
 */
public final class HeldPages {
  private static final long PAGE = PageSize.BYTES;

  /** Per tracked pid: start -> end of merged held runs. Insertion order = tree order. */
  private final Map<Integer, NavigableMap<Long, Long>> held = new LinkedHashMap<>();

  /** Applies a round's layout: drops pages outside the process's current areas, forgets gone pids. */
  public void layout(List<ProcessLayout> processes) {
    Map<Integer, ProcessLayout> now = new LinkedHashMap<>();
    processes.forEach(p -> now.put(p.pid(), p));
    held.keySet().removeIf(pid -> !now.containsKey(pid));
    for (ProcessLayout p : processes) {
      NavigableMap<Long, Long> runs = held.computeIfAbsent(p.pid(), k -> new TreeMap<>(Long::compareUnsigned));
      retain(runs, p.areas());
    }
  }

  /** Records {@code pages} pages of {@code pid} at {@code address} as held. */
  public void add(int pid, long address, int pages) {
    NavigableMap<Long, Long> runs = held.computeIfAbsent(pid, k -> new TreeMap<>(Long::compareUnsigned));
    long start = address;
    long end = address + pages * PAGE;
    Map.Entry<Long, Long> before = runs.floorEntry(start);
    if (before != null && Long.compareUnsigned(before.getValue(), start) >= 0) {
      start = before.getKey();
      end = max(end, before.getValue());
    }
    for (Iterator<Map.Entry<Long, Long>> it = runs.tailMap(start, true).entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Long> e = it.next();
      if (Long.compareUnsigned(e.getKey(), end) > 0) {
        break;
      }
      end = max(end, e.getValue());
      it.remove();
    }
    runs.put(start, end);
  }

  /** Held runs of {@code pid}, sorted, merged. */
  public List<AddressRange> runs(int pid) {
    List<AddressRange> out = new ArrayList<>();
    held.getOrDefault(pid, new TreeMap<>()).forEach((s, e) -> out.add(new AddressRange(s, e)));
    return out;
  }

  public long pages() {
    long n = 0;
    for (NavigableMap<Long, Long> runs : held.values()) {
      for (Map.Entry<Long, Long> e : runs.entrySet()) {
        n += (e.getValue() - e.getKey()) / PAGE;
      }
    }
    return n;
  }

  /**
   * The parent snapshot for the final dump; image pids from /proc (NSpid) now, so call it while
   * the processes exist.
   */
  public ParentSnapshot snapshot(Duration dumpUptime) throws IOException {
    List<ParentSnapshot.Process> ps = new ArrayList<>();
    for (int pid : held.keySet()) {
      int imagePid = ProcessTree.innermostPid(pid)
          .orElseThrow(() -> new IOException("process " + pid + " vanished before the checkpoint"));
      ps.add(new ParentSnapshot.Process(pid, imagePid, runs(pid)));
    }
    return new ParentSnapshot(dumpUptime, ps);
  }

  /** A sink that records what passes through to {@code next}. */
  public PageSink recording(PageSink next) {
    return new PageSink() {
      @Override
      public void pages(int pid, long address, int pages, ByteBuffer data) throws IOException, InterruptedException {
        next.pages(pid, address, pages, data);
        add(pid, address, pages);
      }

      @Override
      public void zeroPages(int pid, long address, int pages) throws IOException, InterruptedException {
        next.zeroPages(pid, address, pages);
        add(pid, address, pages);
      }
    };
  }

  private static void retain(NavigableMap<Long, Long> runs, List<AddressRange> areas) {
    List<AddressRange> sorted = new ArrayList<>(areas);
    sorted.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));
    NavigableMap<Long, Long> kept = new TreeMap<>(Long::compareUnsigned);
    for (AddressRange a : sorted) {
      Map.Entry<Long, Long> first = runs.floorEntry(a.start());
      Long from = first != null && Long.compareUnsigned(first.getValue(), a.start()) > 0 ? first.getKey() : a.start();
      for (Map.Entry<Long, Long> e : runs.subMap(from, true, a.end(), false).entrySet()) {
        long s = max(e.getKey(), a.start());
        long t = min(e.getValue(), a.end());
        if (Long.compareUnsigned(s, t) < 0) {
          Map.Entry<Long, Long> last = kept.lastEntry();
          if (last != null && last.getValue() == s) {
            kept.put(last.getKey(), t); // adjacent areas: one run, as the store reports it
          } else {
            kept.put(s, t);
          }
        }
      }
    }
    runs.clear();
    runs.putAll(kept);
  }

  private static long max(long a, long b) {
    return Long.compareUnsigned(a, b) >= 0 ? a : b;
  }

  private static long min(long a, long b) {
    return Long.compareUnsigned(a, b) <= 0 ? a : b;
  }
}
