package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.AreaKind;
import dev.ferry.agent.memory.MappedArea;
import dev.ferry.agent.memory.MapsReader;
import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.memory.PagemapEntry;
import dev.ferry.agent.memory.PagemapReader;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one process's maps and the pagemap of its copyable areas and selects the pages of a
 * round. Runs inside the freeze for the soft-dirty tracker, so it does nothing but the reads and
 * a linear scan of the entries.
 *
 * <p>Confined to the session thread.
 */
final class ProcessScanner {

  /** Which pages a round selects. */
  enum Mode {
    /** Every copyable page (round 1, the content-hash tracker). */
    EVERY_COPYABLE,
    /** Copyable pages with bit 55 set; every copyable page of ranges new since the last round. */
    SOFT_DIRTY
  }

  private ProcessScanner() {}

  /**
   * @param previous the copyable areas of the previous round, or null when the process is new
   *     to the session (then everything is new)
   */
  static ProcessScan scan(int pid, List<AddressRange> previous, Mode mode, java.nio.ByteBuffer pagemapBuffer)
      throws TrackingException {
    List<MappedArea> maps = MapsReader.read(pid);
    List<AddressRange> areas = new ArrayList<>();
    List<AddressRange> vdso = new ArrayList<>();
    PageRuns runs = new PageRuns();
    long[] copyable = {0};
    List<AddressRange> prev = previous == null ? List.of() : previous;
    try (PagemapReader pagemap = new PagemapReader(pid, pagemapBuffer)) {
      for (MappedArea area : maps) {
        AreaKind kind = AreaKind.of(area);
        if (!kind.copied()) {
          continue;
        }
        AddressRange range = area.range();
        areas.add(range);
        if (kind == AreaKind.VDSO) {
          vdso.add(range);
        }
        boolean everything = mode == Mode.EVERY_COPYABLE || previous == null;
        List<AddressRange> fresh = everything ? List.of(range) : Ranges.subtract(List.of(range), prev);
        pagemap.read(range.start(), range.end(), (address, entries, count) ->
            select(kind, address, entries, count, fresh, everything, runs, copyable));
      }
    }
    List<AddressRange> removed = Ranges.subtract(prev, areas);
    return new ProcessScan(pid, areas, removed, runs, vdso, copyable[0]);
  }

  private static void select(AreaKind kind, long address, LongBuffer entries, int count,
      List<AddressRange> fresh, boolean everything, PageRuns runs, long[] copyable) {
    if (everything) {
      // tight loop: whole runs of copyable pages at once (round 1 of 1 GiB is 262,144 entries)
      int i = 0;
      while (i < count) {
        if (!kind.copies(entries.get(i))) {
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
      return;
    }
    int f = 0;
    for (int i = 0; i < count; i++, address += PageSize.BYTES) {
      long e = entries.get(i);
      boolean copies = kind.copies(e);
      if (copies) {
        copyable[0]++;
      }
      if (everything) {
        if (copies) {
          runs.add(address, false);
        }
        continue;
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
