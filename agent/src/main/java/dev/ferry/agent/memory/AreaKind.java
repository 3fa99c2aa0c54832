package dev.ferry.agent.memory;

/**
 * What Ferry does with a mapped area, mirroring what CRIU dumps: private readable memory (its
 * present or swapped pages), the written pages of private file mappings, and every vdso page.
 * Shared mappings are CRIU's to dump (shmem), vvar and vsyscall are provided by the kernel.
 */
public enum AreaKind {
  /** Private anonymous memory ([heap], [stack], plain anonymous): present or swapped pages. */
  PRIVATE_ANONYMOUS(true),
  /** Private file mapping: only pages that are anonymous now (written, pagemap bit 61 clear). */
  PRIVATE_FILE(true),
  /** [vdso]: every page, mapped or not (CRIU always dumps them all). */
  VDSO(true),
  SKIP_SHARED(false),
  SKIP_UNREADABLE(false),
  SKIP_VVAR(false),
  SKIP_VSYSCALL(false);

  private final boolean copied;

  AreaKind(boolean copied) {
    this.copied = copied;
  }

  /** True when pages of this area are copied. */
  public boolean copied() {
    return copied;
  }

  /** Classifies one area; pure. */
  public static AreaKind of(MappedArea area) {
    String path = area.path();
    if (path.equals("[vsyscall]")) {
      return SKIP_VSYSCALL;
    }
    if (path.startsWith("[vvar")) { // [vvar] and, on newer kernels, [vvar_vclock]
      return SKIP_VVAR;
    }
    if (path.equals("[vdso]")) {
      return VDSO;
    }
    if (!area.readable()) {
      return SKIP_UNREADABLE;
    }
    if (area.shared()) {
      return SKIP_SHARED;
    }
    boolean fileBacked = area.inode() != 0 || path.startsWith("/");
    return fileBacked ? PRIVATE_FILE : PRIVATE_ANONYMOUS;
  }

  /**
   * Whether a page of an area of this kind, with this pagemap entry, holds data the destination
   * needs (what CRIU would dump). VDSO pages are always copied.
   */
  public boolean copies(long pagemapEntry) {
    switch (this) {
      case VDSO:
        return true;
      case PRIVATE_ANONYMOUS:
        return PagemapEntry.presentOrSwapped(pagemapEntry);
      case PRIVATE_FILE:
        return PagemapEntry.presentOrSwapped(pagemapEntry) && !PagemapEntry.fileOrShared(pagemapEntry);
      default:
        return false;
    }
  }
}
