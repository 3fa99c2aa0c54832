package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.PageSize;
import java.util.Arrays;

/**
 * Runs of consecutive pages of one process in ascending address order, each either to be read
 * or to be sent as zero pages without reading (a soft-dirty hole: the page was unmapped or
 * discarded since the last round, so the destination must forget its old contents).
 * Append-only; adjacent pages of the same kind merge into one run.
 *
 * <p>Memory: 13 bytes per run, not per page.
 */
public final class PageRuns {
  private long[] starts = new long[64];
  private int[] counts = new int[64];
  private boolean[] zeroFill = new boolean[64];
  private int size;
  private long pages;

  public void add(long address, boolean zero) {
    addRun(address, 1, zero);
  }

  /** Appends {@code n} consecutive pages from {@code address}. */
  public void addRun(long address, int n, boolean zero) {
    if (size > 0 && zeroFill[size - 1] == zero && counts[size - 1] <= Integer.MAX_VALUE - n
        && starts[size - 1] + ((long) counts[size - 1] << PageSize.SHIFT) == address) {
      counts[size - 1] += n;
    } else {
      if (size == starts.length) {
        starts = Arrays.copyOf(starts, size * 2);
        counts = Arrays.copyOf(counts, size * 2);
        zeroFill = Arrays.copyOf(zeroFill, size * 2);
      }
      starts[size] = address;
      counts[size] = n;
      zeroFill[size] = zero;
      size++;
    }
    pages += n;
  }

  public int size() {
    return size;
  }

  public long start(int run) {
    return starts[run];
  }

  public int count(int run) {
    return counts[run];
  }

  public boolean zeroFill(int run) {
    return zeroFill[run];
  }

  /** Pages in all runs. */
  public long pages() {
    return pages;
  }
}
