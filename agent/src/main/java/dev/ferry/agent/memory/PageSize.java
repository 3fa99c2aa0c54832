package dev.ferry.agent.memory;

/** The base page size Ferry tracks and copies. x86-64 and the lab use 4 KiB pages. */
public final class PageSize {
  public static final int BYTES = 4096;
  public static final int SHIFT = 12;

  private PageSize() {}
}
