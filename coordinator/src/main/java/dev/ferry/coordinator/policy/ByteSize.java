package dev.ferry.coordinator.policy;

/** A non-negative amount of memory or data, printed the way an operator reads it. */
public record ByteSize(long bytes) implements Comparable<ByteSize> {
  public static final long PAGE = 4096;
  public static final ByteSize ZERO = new ByteSize(0);

  public ByteSize {
    if (bytes < 0) {
      throw new IllegalArgumentException("negative size: " + bytes);
    }
  }

  public static ByteSize ofPages(long pages) {
    return new ByteSize(Math.multiplyExact(pages, PAGE));
  }

  public static ByteSize ofMiB(long mib) {
    return new ByteSize(mib << 20);
  }

  public long pages() {
    return (bytes + PAGE - 1) / PAGE;
  }

  public ByteSize plus(ByteSize other) {
    return new ByteSize(Math.addExact(bytes, other.bytes));
  }

  @Override
  public int compareTo(ByteSize o) {
    return Long.compare(bytes, o.bytes);
  }

  @Override
  public String toString() {
    if (bytes >= 1L << 30) {
      return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
    if (bytes >= 1L << 20) {
      return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
    if (bytes >= 1L << 10) {
      return String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / (double) (1L << 10));
    }
    return bytes + " B";
  }
}
