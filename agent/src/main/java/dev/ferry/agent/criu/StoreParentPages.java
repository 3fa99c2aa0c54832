package dev.ferry.agent.criu;

import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.StoreException;
import dev.ferry.agent.tracking.AddressRange;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The destination's parent image from its page store: what the store holds as a snapshot, and the
 * store as the page source of pages-N.img. Image pids are not known here (the source sends them
 * with the final images, see {@link ImagePids}); {@link Restorer#restore} fills them in.
 *
 * <p>Reads the store after its last round was committed (the store's reader contract).
 */
public final class StoreParentPages implements ParentImages.PageSource {
  private static final int PAGE = PageSize.BYTES;

  private final PageStore store;

  public StoreParentPages(PageStore store) {
    this.store = store;
  }

  /** What the store holds, per pid in ascending order, as merged runs. */
  public ParentSnapshot snapshot(Duration dumpUptime) {
    List<ParentSnapshot.Process> processes = new ArrayList<>();
    for (int pid : store.pids()) {
      List<AddressRange> runs = new ArrayList<>();
      long[] run = {-1, -1};
      store.forEachPage(pid, (address, hash, location) -> {
        if (run[1] == address) {
          run[1] += PAGE;
        } else {
          if (run[0] != -1) {
            runs.add(new AddressRange(run[0], run[1]));
          }
          run[0] = address;
          run[1] = address + PAGE;
        }
      });
      if (run[0] != -1) {
        runs.add(new AddressRange(run[0], run[1]));
      }
      processes.add(new ParentSnapshot.Process(pid, pid, runs));
    }
    return new ParentSnapshot(dumpUptime, processes);
  }

  @Override
  public void copyTo(int pid, long address, int pages, WritableByteChannel out) throws IOException {
    long missing;
    try {
      missing = store.copyPages(pid, address, pages, out);
    } catch (StoreException e) {
      throw new IOException("reading pages " + Long.toHexString(address) + "+" + pages + " of pid " + pid + " from the store: "
          + e.getMessage(), e);
    }
    if (missing != -1) {
      throw new IOException("the page store lacks page " + Long.toHexString(missing) + " of pid " + pid);
    }
  }
}
