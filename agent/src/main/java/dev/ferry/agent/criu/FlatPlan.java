package dev.ferry.agent.criu;

import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.tracking.AddressRange;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;

/**
 * Decides whether the destination can restore one process from a FLAT top layer, and how: the
 * store's gap-free layout of the held pages (slots ascending, each at the file offset where the
 * previous one ended) with the final dump's own pages written into place, described by a pagemap
 * of PE_PRESENT[|PE_LAZY] entries and no parent. Pure: pagemap entries, slots, VMAs and stack
 * pointers in; a {@link Plan} (what to write where, the new pagemap) or an {@link Incompatible}
 * reason out.
 *
 * <p>Why: with a parent layer CRIU 3.17 restores every page taken from the parent eagerly and
 * cannot restore in place (see docs/SWITCHOVER.md); a flat layer gets both the in-place restore
 * and lazy pages for the whole memory.
 *
 * <p>Invariants a plan guarantees (else the verdict is Incompatible and the caller falls back to
 * the parent path):
 * <ul>
 *   <li>every page the final dump takes from the parent lies in a slot (its data is there); every
 *       page it has present either lies in a slot (copied there) or is listed PE_PARENT and
 *       goes to a small parent layer ({@link Plan#outside});</li>
 *   <li>a held page the final dump does not list (freed, or a zero page CRIU skips) lies in a
 *       private anonymous VMA, where the process reads zeros: it is zeroed in the file;</li>
 *   <li>the new pagemap lists exactly the slots (every page in the file, in file order), split at
 *       VMA bounds, every entry inside a private VMA (CRIU: "Page entry address ... outside of
 *       VMA");</li>
 *   <li>PE_LAZY only where CRIU's dump would set it ({@code vma_entry_can_be_lazy}: MAP_ANONYMOUS,
 *       MAP_PRIVATE, not MAP_LOCKED, not vdso/vsyscall; and not the page of a thread's stack
 *       pointer, {@code is_stack}): only those VMAs are registered with userfaultfd on restore.</li>
 * </ul>
 */
final class FlatPlan {
  static final int PE_PARENT = 1;
  static final int PE_LAZY = 2;
  static final int PE_PRESENT = 4;

  static final int VMA_AREA_VSYSCALL = 1 << 2;
  static final int VMA_AREA_VDSO = 1 << 3;
  static final int VMA_FILE_PRIVATE = 1 << 6;
  static final int VMA_ANON_PRIVATE = 1 << 9;
  static final int VMA_AREA_AIORING = 1 << 13;
  static final int MAP_PRIVATE = 0x02;
  static final int MAP_ANONYMOUS = 0x20;
  static final int MAP_LOCKED = 0x2000;

  private static final long PAGE = PageSize.BYTES;

  /** A pagemap entry: {@code nrPages} pages from {@code vaddr}, CRIU's flags. */
  record Entry(long vaddr, long nrPages, int flags) {
    long end() {
      return vaddr + nrPages * PAGE;
    }

    boolean present() {
      return (flags & PE_PRESENT) != 0;
    }
  }

  /** A VMA of mm-PID.img: bounds, mmap flags, CRIU's status bits. */
  record Vma(long start, long end, int flags, int status) {
    boolean isPrivate() {
      return (status & (VMA_ANON_PRIVATE | VMA_FILE_PRIVATE | VMA_AREA_AIORING)) != 0;
    }

    boolean anonymousPrivate() {
      return (status & VMA_ANON_PRIVATE) != 0;
    }

    /** CRIU's vma_entry_can_be_lazy. */
    boolean canBeLazy() {
      return (flags & MAP_ANONYMOUS) != 0 && (flags & MAP_PRIVATE) != 0 && (flags & MAP_LOCKED) == 0
          && (status & VMA_AREA_VDSO) == 0 && (status & VMA_AREA_VSYSCALL) == 0;
    }
  }

  /** Bytes of the final dump's pages file at {@code from} go to the layout file at {@code to}. */
  record Copy(long from, long to, long bytes) {}

  /** Bytes of the layout file from {@code at} are zeroed. */
  record Zero(long at, long bytes) {}

  sealed interface Verdict permits Plan, Incompatible {}

  /**
   * Dumped-present pages outside the layout: {@code bytes} from {@code vaddr}, at {@code from} in
   * the final dump's pages file.
   */
  record Outside(long vaddr, long from, long bytes) {}

  /**
   * How to make the flat layer; {@code entries} is its pagemap, in address order: the layout's
   * pages PE_PRESENT[|PE_LAZY] (in the layout file's order), and the {@code outside} pages as
   * PE_PARENT entries. Those (pages the process touched after the last round, usually a handful)
   * have no place in the gap-free layout file without moving everything above them, so they go
   * to a small parent layer written from the final dump: CRIU restores parent pages eagerly, and
   * the lazy-pages daemon never serves them (it would not UFFDIO_COPY a parent page), so this is
   * CRIU's ordinary pre-dump layering with a tiny parent, not the unsafe lazy-parent case.
   */
  record Plan(List<Entry> entries, List<Copy> copies, List<Zero> zeros, List<Outside> outside, long pages, long lazyPages,
      long copiedPages, long zeroedPages, long outsidePages) implements Verdict {}

  /** Why the flat layer cannot be made: the caller restores through the parent. */
  record Incompatible(String reason) implements Verdict {}

  private FlatPlan() {}

  /**
   * @param finalEntries the final dump's pagemap entries, in file order (ascending)
   * @param slots the layout's slots, ascending and disjoint, stored back to back from offset 0
   * @param vmas the process's VMAs (mm-PID.img), ascending
   * @param stackPages the pages holding a thread's stack pointer (page-aligned addresses)
   * @param lazy whether entries may be PE_LAZY (the restore runs with a lazy-pages daemon)
   */
  static Verdict plan(List<Entry> finalEntries, List<AddressRange> slots, List<Vma> vmas, NavigableSet<Long> stackPages, boolean lazy) {
    long[] offsets = new long[slots.size()];
    long total = 0;
    for (int i = 0; i < slots.size(); i++) {
      offsets[i] = total;
      total += slots.get(i).bytes();
    }
    List<Copy> copies = new ArrayList<>();
    List<Outside> outside = new ArrayList<>();
    long copied = 0;
    long finalOffset = 0;
    long previousEnd = Long.MIN_VALUE;
    int s = 0;
    for (Entry e : finalEntries) {
      if ((e.flags() & (PE_PRESENT | PE_PARENT)) == 0 || e.nrPages() <= 0) {
        return new Incompatible("final pagemap entry " + hex(e.vaddr()) + " has flags " + e.flags() + " (neither present nor parent)");
      }
      if (e.vaddr() < previousEnd) {
        return new Incompatible("final pagemap entries are not ascending at " + hex(e.vaddr()));
      }
      previousEnd = e.end();
      long a = e.vaddr();
      while (a < e.end()) {
        while (s < slots.size() && slots.get(s).end() <= a) {
          s++;
        }
        if (s == slots.size() || slots.get(s).start() > a) {
          if (!e.present()) {
            return new Incompatible("page " + hex(a) + " taken from the parent is not in the store's layout");
          }
          // dumped present, not held (touched since the last round): no place in the layout
          // file; it goes to a small parent layer of the flat one (see Plan)
          long end = s == slots.size() ? e.end() : Math.min(e.end(), slots.get(s).start());
          long from = finalOffset + (a - e.vaddr());
          Outside last = outside.isEmpty() ? null : outside.get(outside.size() - 1);
          if (last != null && last.vaddr() + last.bytes() == a && last.from() + last.bytes() == from) {
            outside.set(outside.size() - 1, new Outside(last.vaddr(), last.from(), last.bytes() + end - a));
          } else {
            outside.add(new Outside(a, from, end - a));
          }
          a = end;
          continue;
        }
        AddressRange slot = slots.get(s);
        long chunk = Math.min(e.end(), slot.end()) - a;
        if (e.present()) {
          long from = finalOffset + (a - e.vaddr());
          long to = offsets[s] + (a - slot.start());
          Copy last = copies.isEmpty() ? null : copies.get(copies.size() - 1);
          if (last != null && last.from() + last.bytes() == from && last.to() + last.bytes() == to) {
            copies.set(copies.size() - 1, new Copy(last.from(), last.to(), last.bytes() + chunk));
          } else {
            copies.add(new Copy(from, to, chunk));
          }
          copied += chunk / PAGE;
        }
        a += chunk;
      }
      if (e.present()) {
        finalOffset += e.nrPages() * PAGE;
      }
    }

    // held pages the final dump does not list: zeros for the process, if anonymous private
    List<Zero> zeros = new ArrayList<>();
    long zeroed = 0;
    int f = 0;
    int v = 0;
    for (int i = 0; i < slots.size(); i++) {
      AddressRange slot = slots.get(i);
      long a = slot.start();
      while (a < slot.end()) {
        while (f < finalEntries.size() && finalEntries.get(f).end() <= a) {
          f++;
        }
        long gapEnd = slot.end();
        if (f < finalEntries.size()) {
          Entry e = finalEntries.get(f);
          if (e.vaddr() <= a) {
            a = Math.min(slot.end(), e.end());
            continue;
          }
          gapEnd = Math.min(gapEnd, e.vaddr());
        }
        // [a, gapEnd) is held but not in the final dump
        while (a < gapEnd) {
          while (v < vmas.size() && vmas.get(v).end() <= a) {
            v++;
          }
          if (v == vmas.size() || vmas.get(v).start() > a) {
            return new Incompatible("held page " + hex(a) + " is not in the final dump and outside every VMA (unmapped since the last round)");
          }
          Vma vma = vmas.get(v);
          if (!vma.anonymousPrivate()) {
            return new Incompatible("held page " + hex(a) + " is not in the final dump and lies in a VMA that is not private anonymous"
                + " (status 0x" + Integer.toHexString(vma.status()) + ")");
          }
          long end = Math.min(gapEnd, vma.end());
          long at = offsets[i] + (a - slot.start());
          Zero last = zeros.isEmpty() ? null : zeros.get(zeros.size() - 1);
          if (last != null && last.at() + last.bytes() == at) {
            zeros.set(zeros.size() - 1, new Zero(last.at(), last.bytes() + end - a));
          } else {
            zeros.add(new Zero(at, end - a));
          }
          zeroed += (end - a) / PAGE;
          a = end;
        }
      }
    }

    // the flat pagemap: every slot, split at VMA bounds and where the lazy flag changes
    List<Entry> entries = new ArrayList<>();
    long lazyPages = 0;
    v = 0;
    for (AddressRange slot : slots) {
      long a = slot.start();
      while (a < slot.end()) {
        while (v < vmas.size() && vmas.get(v).end() <= a) {
          v++;
        }
        if (v == vmas.size() || vmas.get(v).start() > a || !vmas.get(v).isPrivate()) {
          return new Incompatible("held page " + hex(a) + " lies outside every private VMA of the final dump");
        }
        Vma vma = vmas.get(v);
        long end = Math.min(slot.end(), vma.end());
        boolean lazyVma = lazy && vma.canBeLazy();
        long runStart = a;
        if (lazyVma) {
          for (long p : stackPages.subSet(a, true, end, false)) {
            if (p > runStart) {
              lazyPages += add(entries, runStart, p, PE_PRESENT | PE_LAZY);
            }
            add(entries, p, p + PAGE, PE_PRESENT);
            runStart = p + PAGE;
          }
        }
        if (end > runStart) {
          long n = add(entries, runStart, end, lazyVma ? PE_PRESENT | PE_LAZY : PE_PRESENT);
          if (lazyVma) {
            lazyPages += n;
          }
        }
        a = end;
      }
    }
    List<Entry> merged = new ArrayList<>(entries.size() + outside.size());
    int o = 0;
    long outsidePages = 0;
    for (Entry en : entries) {
      while (o < outside.size() && outside.get(o).vaddr() < en.vaddr()) {
        outsidePages += add(merged, outside.get(o).vaddr(), outside.get(o).vaddr() + outside.get(o).bytes(), PE_PARENT);
        o++;
      }
      merged.add(en);
    }
    for (; o < outside.size(); o++) {
      outsidePages += add(merged, outside.get(o).vaddr(), outside.get(o).vaddr() + outside.get(o).bytes(), PE_PARENT);
    }
    return new Plan(List.copyOf(merged), List.copyOf(copies), List.copyOf(zeros), List.copyOf(outside), total / PAGE, lazyPages,
        copied, zeroed, outsidePages);
  }

  private static long add(List<Entry> entries, long start, long end, int flags) {
    long n = (end - start) / PAGE;
    entries.add(new Entry(start, n, flags));
    return n;
  }

  private static String hex(long a) {
    return "0x" + Long.toHexString(a);
  }
}
