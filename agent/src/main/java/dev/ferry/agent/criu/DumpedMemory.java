package dev.ferry.agent.criu;

import dev.ferry.agent.criu.image.CoreScan;
import dev.ferry.agent.criu.image.MmScan;
import dev.ferry.agent.criu.image.PagemapScan;
import dev.ferry.agent.memory.PageSize;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * What a final dump says about a process's memory, read from its image dir: the pagemap entries
 * ({@code pagemap-PID.img}), the VMAs ({@code mm-PID.img}) and the pages of the threads' stack
 * pointers ({@code core-TID.img}, x86-64 gpregs.sp). Inputs of {@link FlatPlan}.
 */
final class DumpedMemory {
  private DumpedMemory() {}

  /** The entries of {@code pagemap}, in file order. */
  static List<FlatPlan.Entry> entries(Path pagemap) throws IOException {
    List<FlatPlan.Entry> entries = new ArrayList<>();
    PagemapScan.forEach(pagemap, (vaddr, nrPages, flags, inParent) ->
        entries.add(new FlatPlan.Entry(vaddr, nrPages, inParent ? flags | FlatPlan.PE_PARENT : flags)));
    return entries;
  }

  /** The VMAs of {@code mm-PID.img}, ascending. */
  static List<FlatPlan.Vma> vmas(Path mm) throws IOException {
    List<MmScan.Vma> scanned = MmScan.vmas(mm); // only the four fields the plan needs are decoded
    List<FlatPlan.Vma> vmas = new ArrayList<>(scanned.size());
    long previous = Long.MIN_VALUE;
    for (MmScan.Vma v : scanned) {
      if (v.start() < previous || v.end() <= v.start()) {
        throw new IOException(mm + ": VMAs not ascending at 0x" + Long.toHexString(v.start()));
      }
      previous = v.end();
      vmas.add(new FlatPlan.Vma(v.start(), v.end(), v.flags(), v.status()));
    }
    return vmas;
  }

  /**
   * The pages holding any thread's stack pointer, over every {@code core-*.img} of the dir: a
   * superset of one process's (making a page eager is always safe; lazy is not).
   */
  static NavigableSet<Long> stackPages(Path dir) throws IOException {
    NavigableSet<Long> pages = new TreeSet<>();
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String n = f.getFileName().toString();
        if (!n.startsWith("core-") || !n.endsWith(".img")) {
          continue;
        }
        pages.add(CoreScan.stackPointer(f) & -PageSize.BYTES); // only sp is decoded, the rest skipped (CoreScan)
      }
    }
    return pages;
  }
}
