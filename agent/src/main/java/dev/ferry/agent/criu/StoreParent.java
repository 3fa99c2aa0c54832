package dev.ferry.agent.criu;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.StoreException;
import dev.ferry.agent.criu.image.PagemapScan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The destination's parent image dir straight from its page store, with nothing copied: the store
 * keeps each process's pages laid out by address ({@link PageStore#parentLayout}, current at each
 * round's commit), {@code parent/pages-<id>.img} is a symbolic link to that file, and the pagemap
 * (written by {@link Restorer#restore}) has one PE_PRESENT entry per slot of it. The switch-over
 * used to copy the whole memory out of the store here, after the freeze.
 *
 * <p>The pagemap lists whole slots, more than the store holds, so CRIU's own "Missing ... in
 * parent pagemap" check no longer catches a page the destination lacks: {@link #checkFinal} does,
 * against the final dump's in_parent entries, before the restore.
 *
 * <p>Reads the store after its last round was committed (the store's reader contract).
 */
public final class StoreParent {

  private final PageStore store;

  public StoreParent(PageStore store) {
    this.store = store;
  }

  /** The store the parent comes from (the flat top layer is laid out from it too). */
  PageStore store() {
    return store;
  }

  /**
   * Links {@code parentDir/pages-<id>.img} to the store's layout of each process (pids ascending,
   * id 1, 2, ...) and returns the snapshot whose runs are the slots (image pids still the tracking
   * pids: {@link Restorer#restore} names them).
   */
  public ParentSnapshot link(Path parentDir, Duration dumpUptime) throws CriuFailure {
    List<ParentSnapshot.Process> processes = new ArrayList<>();
    try {
      Files.createDirectories(parentDir);
      int pagesId = 0;
      for (int pid : store.pids()) {
        PageStore.ParentLayout layout = store.parentLayout(pid);
        Path link = parentDir.resolve("pages-" + ++pagesId + ".img");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, layout.pagesFile().toAbsolutePath());
        processes.add(new ParentSnapshot.Process(pid, pid, layout.slots()));
      }
    } catch (StoreException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot lay out the parent from the page store: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot link the parent pages into " + parentDir + ": " + e.getMessage(), e);
    }
    return new ParentSnapshot(dumpUptime, processes);
  }

  /**
   * Checks that every page the final dump in {@code finalDir} takes from its parent is held by the
   * store: else the restore would read a hole of the layout (zeros) for it. DATA_LOSS-grade.
   */
  public void checkFinal(Path finalDir) throws CriuFailure {
    try {
      ImagePids pids = ImagePids.read(finalDir);
      for (int pid : store.pids()) {
        Path pagemap = finalDir.resolve("pagemap-" + pids.imagePid(pid) + ".img");
        if (!Files.exists(pagemap)) {
          continue;
        }
        PagemapScan.forEach(pagemap, new PagemapScan.Visitor() { // a class, not a lambda: see FlatTop.ParentSeen
          @Override
          public void entry(long vaddr, long nrPages, int flags, boolean inParent) throws MissingPage {
            if (!inParent) {
              return;
            }
            long missing = store.firstMissing(pid, vaddr, nrPages);
            if (missing != -1) {
              throw new MissingPage(pid, missing); // stops the scan
            }
          }
        });
      }
    } catch (MissingPage m) {
      throw new CriuFailure(CriuFailure.Reason.BAD_OUTPUT, "the final dump takes page " + Long.toHexString(m.address) + " of pid "
          + m.pid + " from the parent, but the destination's store does not hold it", "");
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.BAD_OUTPUT, "cannot read the final pagemaps in " + finalDir + ": " + e.getMessage(), e);
    }
  }

  /** The scan's verdict "not held" (an IOException only to leave the scan's visitor). */
  private static final class MissingPage extends IOException {
    final int pid;
    final long address;

    MissingPage(int pid, long address) {
      super("page not held");
      this.pid = pid;
      this.address = address;
    }
  }
}
