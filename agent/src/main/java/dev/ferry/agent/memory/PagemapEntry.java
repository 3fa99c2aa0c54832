package dev.ferry.agent.memory;

/**
 * Bits of one 64-bit /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst). The
 * PFN bits (0-54) are only visible with CAP_SYS_ADMIN and are not used.
 */
public final class PagemapEntry {
  public static final long PRESENT = 1L << 63;
  public static final long SWAPPED = 1L << 62;
  /** File-backed page or shared anonymous page (i.e. not a private anonymous page). */
  public static final long FILE_OR_SHARED = 1L << 61;
  public static final long EXCLUSIVE = 1L << 56;
  public static final long SOFT_DIRTY = 1L << 55;
  /** Bytes per entry. */
  public static final int BYTES = 8;

  private PagemapEntry() {}

  public static boolean present(long e) {
    return (e & PRESENT) != 0;
  }

  public static boolean swapped(long e) {
    return (e & SWAPPED) != 0;
  }

  public static boolean presentOrSwapped(long e) {
    return (e & (PRESENT | SWAPPED)) != 0;
  }

  public static boolean fileOrShared(long e) {
    return (e & FILE_OR_SHARED) != 0;
  }

  public static boolean exclusive(long e) {
    return (e & EXCLUSIVE) != 0;
  }

  public static boolean softDirty(long e) {
    return (e & SOFT_DIRTY) != 0;
  }
}
