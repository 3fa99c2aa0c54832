package dev.ferry.agent.tracking;

/** A page-aligned virtual address range [start, end). */
public record AddressRange(long start, long end) {
  public AddressRange {
    if (Long.compareUnsigned(start, end) > 0) {
      throw new IllegalArgumentException("range start after end: " + Long.toHexString(start) + "-" + Long.toHexString(end));
    }
  }

  public long bytes() {
    return end - start;
  }

  public boolean contains(long address) {
    return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
  }

  @Override
  public String toString() {
    return Long.toHexString(start) + "-" + Long.toHexString(end);
  }
}
