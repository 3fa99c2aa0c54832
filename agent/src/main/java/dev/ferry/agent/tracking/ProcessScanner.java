package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.AreaKind;
import dev.ferry.agent.memory.MappedArea;
import dev.ferry.agent.memory.MapsSnapshot;
import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.memory.PagemapEntry;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * One process's part of a capture: the plan (maps parsed and classified, done before any freeze)
 * and the decoding of its raw pagemap entries into the pages of a round (done after the thaw).
 * Nothing here runs inside the freeze.
 *
 * <p>Pure functions and immutable plans; used by the session thread.
 */
final class ProcessScanner {

  /** Which pages a round selects. */
  enum Mode {
    /** Every copyable page (round 1, the content-hash tracker). */
    EVERY_COPYABLE,
    /** Copyable pages with bit 55 set; every copyable page of ranges new since the last round. */
    SOFT_DIRTY
  }

  /**
   * Pages of private anonymous areas that are neither present nor swapped (dropped with
   * MADV_DONTNEED, or never touched): the process reads zeros there. The content-hash tracker
   * answers whether the destination holds other data for such a page (then it gets a zero flag).
   */
  interface Holes {
    /**
     * True when {@code address} of {@code pid} must be sent as a zero page now; the callee
     * records it as sent.
     */
    boolean zeroed(int pid, long address);
  }

  /** The copyable areas of one process as its maps read said. */
  record Plan(MapsSnapshot maps, List<AddressRange> ranges, List<AreaKind> kinds) {
    static Plan of(MapsSnapshot maps) {
      List<AddressRange> ranges = new ArrayList<>();
      List<AreaKind> kinds = new ArrayList<>();
      for (MappedArea area : maps.areas()) {
        AreaKind kind = AreaKind.of(area);
        if (kind.copied()) {
          ranges.add(area.range());
          kinds.add(kind);
        }
      }
      return new Plan(maps, List.copyOf(ranges), List.copyOf(kinds));
    }

    int pid() {
      return maps.pid();
    }
  }

  private ProcessScanner() {}

  /**
   * Selects the pages of a round from the raw entries of every planned area.
   *
   * @param entries the entries of area {@code j} of the plan, by index
   * @param previous the copyable areas of the previous round, or null when the process is new
   *     to the session (then everything is new)
   * @param holes null, or the content-hash tracker's view of holes (see {@link Holes})
   */
  static ProcessScan decode(Plan plan, IntFunction<LongBuffer> entries,
      List<AddressRange> previous, Mode mode, Holes holes) {
    PageRuns runs = new PageRuns();
    List<AddressRange> vdso = new ArrayList<>();
    long[] copyable = {0};
    List<AddressRange> prev = previous == null ? List.of() : previous;
    boolean everything = mode == Mode.EVERY_COPYABLE || previous == null;
    for (int j = 0; j < plan.ranges().size(); j++) {
      AddressRange range = plan.ranges().get(j);
      AreaKind kind = plan.kinds().get(j);
      if (kind == AreaKind.VDSO) {
        vdso.add(range);
      }
      LongBuffer e = entries.apply(j);
      if (everything) {
        selectAll(plan.pid(), kind, range.start(), e, e.remaining(), runs, copyable,
            kind == AreaKind.PRIVATE_ANONYMOUS ? holes : null);
      } else {
        List<AddressRange> fresh = Ranges.subtract(List.of(range), prev);
        selectDirty(kind, range.start(), e, e.remaining(), fresh, runs, copyable);
      }
    }
    List<AddressRange> removed = Ranges.subtract(prev, plan.ranges());
    return new ProcessScan(plan.pid(), plan.ranges(), removed, runs, vdso, copyable[0]);
  }

  private static void selectAll(int pid, AreaKind kind, long address, LongBuffer entries, int count,
      PageRuns runs, long[] copyable, Holes holes) {
    // tight loop: whole runs of copyable pages at once (round 1 of 1 GiB is 262,144 entries)
    int i = 0;
    while (i < count) {
      if (!kind.copies(entries.get(i))) {
        // only private anonymous areas pass holes: there a page not copied is not present
        if (holes != null && holes.zeroed(pid, address + ((long) i << PageSize.SHIFT))) {
          runs.add(address + ((long) i << PageSize.SHIFT), true);
        }
        i++;
        continue;
      }
      int j = i + 1;
      while (j < count && kind.copies(entries.get(j))) {
        j++;
      }
      runs.addRun(address + ((long) i << PageSize.SHIFT), j - i, false);
      copyable[0] += j - i;
      i = j;
    }
  }

  private static void selectDirty(AreaKind kind, long address, LongBuffer entries, int count,
      List<AddressRange> fresh, PageRuns runs, long[] copyable) {
    int f = 0;
    for (int i = 0; i < count; i++, address += PageSize.BYTES) {
      long e = entries.get(i);
      boolean copies = kind.copies(e);
      if (copies) {
        copyable[0]++;
      }
      while (f < fresh.size() && Long.compareUnsigned(fresh.get(f).end(), address) <= 0) {
        f++;
      }
      boolean isNew = f < fresh.size() && fresh.get(f).contains(address);
      if (isNew) {
        if (copies) {
          runs.add(address, false);
        }
      } else if (PagemapEntry.softDirty(e)) {
        if (copies) {
          runs.add(address, false);
        } else if (kind == AreaKind.PRIVATE_ANONYMOUS && !PagemapEntry.presentOrSwapped(e)) {
          // A soft-dirty hole: the area was re-mapped (or the page discarded) since the last
          // round. The process now reads zeros here; the destination must not keep old data.
          runs.add(address, true);
        }
      }
    }
  }
}
