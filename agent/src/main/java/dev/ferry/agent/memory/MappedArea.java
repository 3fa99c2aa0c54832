package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.AddressRange;

/**
 * One line of /proc/PID/maps: {@code start-end perms offset dev inode [path]}.
 *
 * @param path the pathname column as the kernel prints it ("" for plain anonymous memory,
 *     "[heap]", "[vdso]", "/usr/lib/libc.so.6", "/memfd:x (deleted)", ...)
 */
public record MappedArea(long start, long end, String perms, long offset, String device, long inode, String path) {

  public boolean readable() {
    return perms.charAt(0) == 'r';
  }

  public boolean writable() {
    return perms.charAt(1) == 'w';
  }

  /** 'p' (private, copy-on-write) or 's' (shared). */
  public boolean shared() {
    return perms.charAt(3) == 's';
  }

  public long pages() {
    return (end - start) / PageSize.BYTES;
  }

  public AddressRange range() {
    return new AddressRange(start, end);
  }

  /**
   * Parses one maps line. The path may contain spaces (and " (deleted)"), so everything after the
   * inode column, leading blanks stripped, is the path.
   *
   * @throws IllegalArgumentException naming the line when it is not a maps line
   */
  public static MappedArea parse(String line) {
    try {
      int dash = line.indexOf('-');
      int sp1 = line.indexOf(' ', dash);
      int sp2 = line.indexOf(' ', sp1 + 1);
      int sp3 = line.indexOf(' ', sp2 + 1);
      int sp4 = line.indexOf(' ', sp3 + 1);
      int sp5 = line.indexOf(' ', sp4 + 1);
      long start = Long.parseUnsignedLong(line, 0, dash, 16);
      long end = Long.parseUnsignedLong(line, dash + 1, sp1, 16);
      String perms = line.substring(sp1 + 1, sp2);
      long offset = Long.parseUnsignedLong(line, sp2 + 1, sp3, 16);
      String device = line.substring(sp3 + 1, sp4);
      int inodeEnd = sp5 < 0 ? line.length() : sp5;
      long inode = Long.parseLong(line, sp4 + 1, inodeEnd, 10);
      String path = sp5 < 0 ? "" : line.substring(sp5).strip();
      if (perms.length() != 4 || dash <= 0) {
        throw new IllegalArgumentException("bad perms");
      }
      return new MappedArea(start, end, perms, offset, device, inode, path);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a /proc/PID/maps line: '" + line + "'", e);
    }
  }
}
