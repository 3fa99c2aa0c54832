package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.tracking.AddressRange;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The flat top layer's decision, pure: crafted final pagemaps, layouts, VMAs. */
class FlatPlanTest {
  static final long P = 4096;
  static final long A = 0x7f0000000000L;
  static final int PARENT = FlatPlan.PE_PARENT, LAZY = FlatPlan.PE_LAZY, PRESENT = FlatPlan.PE_PRESENT;
  static final int ANON = FlatPlan.MAP_PRIVATE | FlatPlan.MAP_ANONYMOUS;
  static final int ANON_STATUS = 1 | FlatPlan.VMA_ANON_PRIVATE;

  static FlatPlan.Entry e(long page, long n, int flags) {
    return new FlatPlan.Entry(A + page * P, n, flags);
  }

  static AddressRange slot(long page, long n) {
    return new AddressRange(A + page * P, A + (page + n) * P);
  }

  static FlatPlan.Vma anon(long page, long n) {
    return new FlatPlan.Vma(A + page * P, A + (page + n) * P, ANON, ANON_STATUS);
  }

  static NavigableSet<Long> none() {
    return new TreeSet<>();
  }

  @Test
  void theFinalDeltaGoesIntoPlaceAndEveryHeldPageIsListedLazily() {
    // held: pages 0-7 and 20-23 (one file: 0-7 at offset 0, 20-23 at offset 8 pages)
    List<AddressRange> slots = List.of(slot(0, 8), slot(20, 4));
    List<FlatPlan.Entry> fin = List.of(e(0, 2, PARENT), e(2, 1, PRESENT | LAZY), e(3, 5, PARENT),
        e(20, 1, PRESENT | LAZY), e(21, 2, PRESENT | LAZY), e(23, 1, PARENT));
    FlatPlan.Plan plan = assertInstanceOf(FlatPlan.Plan.class,
        FlatPlan.plan(fin, slots, List.of(anon(0, 64)), none(), true));
    // final pages file: page 2 at 0, pages 20-22 at 1..3; layout: page 2 at 2, pages 20-22 at 8..10
    assertEquals(List.of(new FlatPlan.Copy(0, 2 * P, P), new FlatPlan.Copy(P, 8 * P, 3 * P)), plan.copies());
    assertEquals(List.of(), plan.zeros());
    assertEquals(List.of(e(0, 8, PRESENT | LAZY), e(20, 4, PRESENT | LAZY)), plan.entries());
    assertEquals(12, plan.pages());
    assertEquals(12, plan.lazyPages());
    assertEquals(4, plan.copiedPages());
  }

  @Test
  void withoutLazyPagesEverythingIsEagerlyPresent() {
    FlatPlan.Plan plan = assertInstanceOf(FlatPlan.Plan.class,
        FlatPlan.plan(List.of(e(0, 4, PARENT)), List.of(slot(0, 4)), List.of(anon(0, 8)), none(), false));
    assertEquals(List.of(e(0, 4, PRESENT)), plan.entries());
    assertEquals(0, plan.lazyPages());
  }

  @Test
  void lazyOnlyWhereCriuWouldMakeItLazy() {
    // VMAs: anon 0-3, vdso 4-5, anon locked 6-7, file-private 8-9 (its pages dumped: written ones), stack 10-13
    List<FlatPlan.Vma> vmas = List.of(anon(0, 4),
        new FlatPlan.Vma(A + 4 * P, A + 6 * P, ANON, ANON_STATUS | FlatPlan.VMA_AREA_VDSO),
        new FlatPlan.Vma(A + 6 * P, A + 8 * P, ANON | FlatPlan.MAP_LOCKED, ANON_STATUS),
        new FlatPlan.Vma(A + 8 * P, A + 10 * P, FlatPlan.MAP_PRIVATE, 1 | FlatPlan.VMA_FILE_PRIVATE),
        anon(10, 4));
    NavigableSet<Long> sp = new TreeSet<>(List.of(A + 11 * P));
    FlatPlan.Plan plan = assertInstanceOf(FlatPlan.Plan.class,
        FlatPlan.plan(List.of(e(0, 14, PARENT)), List.of(slot(0, 14)), vmas, sp, true));
    assertEquals(List.of(e(0, 4, PRESENT | LAZY), e(4, 2, PRESENT), e(6, 2, PRESENT), e(8, 2, PRESENT),
        e(10, 1, PRESENT | LAZY), e(11, 1, PRESENT), e(12, 2, PRESENT | LAZY)), plan.entries());
    assertEquals(7, plan.lazyPages());
  }

  @Test
  void aHeldPageTheDumpDropsIsZeroedWhenAnonymous() {
    // page 5 held but not dumped (freed with MADV_DONTNEED, or a zero page): zeros at its place
    FlatPlan.Plan plan = assertInstanceOf(FlatPlan.Plan.class,
        FlatPlan.plan(List.of(e(0, 5, PARENT), e(6, 2, PRESENT)), List.of(slot(0, 8)), List.of(anon(0, 8)), none(), true));
    assertEquals(List.of(new FlatPlan.Zero(5 * P, P)), plan.zeros());
    assertEquals(List.of(new FlatPlan.Copy(0, 6 * P, 2 * P)), plan.copies());
    assertEquals(List.of(e(0, 8, PRESENT | LAZY)), plan.entries(), "still listed: the file has every held page in order");
  }

  @Test
  void aHeldPageTheDumpDropsInAFileMappingFallsBack() {
    List<FlatPlan.Vma> vmas = List.of(new FlatPlan.Vma(A, A + 8 * P, FlatPlan.MAP_PRIVATE, 1 | FlatPlan.VMA_FILE_PRIVATE));
    FlatPlan.Incompatible i = assertInstanceOf(FlatPlan.Incompatible.class,
        FlatPlan.plan(List.of(e(0, 5, PARENT), e(6, 2, PARENT)), List.of(slot(0, 8)), vmas, none(), true));
    assertTrue(i.reason().contains("0x" + Long.toHexString(A + 5 * P)) && i.reason().contains("not private anonymous"), i.reason());
  }

  @Test
  void aHeldPageOutsideEveryVmaFallsBack() {
    // pages 4-7 munmapped since the last round: held, not dumped, no VMA
    FlatPlan.Incompatible i = assertInstanceOf(FlatPlan.Incompatible.class,
        FlatPlan.plan(List.of(e(0, 4, PARENT)), List.of(slot(0, 8)), List.of(anon(0, 4)), none(), true));
    assertTrue(i.reason().contains("outside every VMA"), i.reason());
  }

  @Test
  void pagesDumpedOutsideTheLayoutGoToAParentLayer() {
    // pages 5-6 and 12 touched since the last round: dumped present, not held
    FlatPlan.Plan plan = assertInstanceOf(FlatPlan.Plan.class,
        FlatPlan.plan(List.of(e(0, 4, PARENT), e(4, 3, PRESENT | LAZY), e(12, 1, PRESENT | LAZY)), List.of(slot(0, 5)),
            List.of(anon(0, 16)), none(), true));
    assertEquals(List.of(new FlatPlan.Outside(A + 5 * P, P, 2 * P), new FlatPlan.Outside(A + 12 * P, 3 * P, P)), plan.outside());
    assertEquals(List.of(new FlatPlan.Copy(0, 4 * P, P)), plan.copies());
    assertEquals(List.of(e(0, 5, PRESENT | LAZY), e(5, 2, PARENT), e(12, 1, PARENT)), plan.entries(), "in address order");
    assertEquals(3, plan.outsidePages());
    assertEquals(5, plan.pages(), "the layout file keeps its pages only");
  }

  @Test
  void aParentPageTheLayoutLacksFallsBack() {
    // the parent check alongside the restore turns this into DATA_LOSS on the parent path
    FlatPlan.Incompatible i = assertInstanceOf(FlatPlan.Incompatible.class,
        FlatPlan.plan(List.of(e(0, 4, PARENT), e(10, 1, PARENT)), List.of(slot(0, 4)), List.of(anon(0, 16)), none(), true));
    assertTrue(i.reason().contains("taken from the parent"), i.reason());
  }

  @Test
  void entriesWithoutDataOrOutOfOrderFallBack() {
    assertInstanceOf(FlatPlan.Incompatible.class,
        FlatPlan.plan(List.of(e(0, 4, 0)), List.of(slot(0, 4)), List.of(anon(0, 4)), none(), true));
    assertInstanceOf(FlatPlan.Incompatible.class,
        FlatPlan.plan(List.of(e(2, 2, PARENT), e(0, 2, PARENT)), List.of(slot(0, 4)), List.of(anon(0, 4)), none(), true));
  }

  @Test
  void aDumpedPageSpanningTwoSlotsIsCopiedInTwoPieces() {
    // slots 0-3 and 4-7 are adjacent in the address space and in the file; the dump has 3-4 present
    FlatPlan.Plan plan = assertInstanceOf(FlatPlan.Plan.class,
        FlatPlan.plan(List.of(e(0, 3, PARENT), e(3, 2, PRESENT), e(5, 3, PARENT)), List.of(slot(0, 4), slot(4, 4)),
            List.of(anon(0, 8)), none(), false));
    assertEquals(List.of(new FlatPlan.Copy(0, 3 * P, 2 * P)), plan.copies(), "contiguous pieces merge");
  }
}
