package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.PageSize;
import java.util.ArrayList;
import java.util.List;

/**
 * Merges page addresses, fed in ascending order, into address ranges of consecutive pages (what a
 * CRIU pagemap describes). Unlike {@link PageRuns} it carries no zero flags or copy bookkeeping.
 * Not thread-safe: one caller builds one list.
 */
public final class AddressRuns {
  private final List<AddressRange> runs = new ArrayList<>();
  private long start = -1;
  private long end = -1;

  /** Adds the page at {@code address}; addresses must come in ascending order. */
  public void add(long address) {
    if (address == end) {
      end += PageSize.BYTES;
      return;
    }
    flush();
    start = address;
    end = address + PageSize.BYTES;
  }

  /** The runs so far (the open one included). */
  public List<AddressRange> ranges() {
    flush();
    return runs;
  }

  private void flush() {
    if (start != -1) {
      runs.add(new AddressRange(start, end));
      start = -1;
      end = -1;
    }
  }
}
