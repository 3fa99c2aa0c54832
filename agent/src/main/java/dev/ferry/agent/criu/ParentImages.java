package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes the CRIU <em>parent</em> image dir that a final {@code criu dump --track-mem
 * --prev-images-dir ../parent} (source) or {@code criu restore} (destination) reads.
 *
 * <p>A seam: the transfer side's image writer (dev.ferry.agent.criu.image) is the long-term
 * implementation; {@link MinimalParentImages} is this package's own small one, used until the
 * two are reconciled.
 */
public interface ParentImages {

  /**
   * Source side: {@code inventory.img} and one {@code pagemap-<imagePid>.img} per process, no page
   * data. Every page CRIU would dump and finds not soft-dirty must be listed, else CRIU fails with
   * "Missing ... in parent pagemap".
   */
  void writePagemaps(Path dir, ParentSnapshot snapshot) throws IOException;

  /**
   * Destination side, the bulk of it: {@code pages-<id>.img} for each process ({@code id} is its
   * 1-based position in the snapshot, as the pagemap's pages_id), the pages of its runs in address
   * order, read from {@code pages}. Uses only {@code pid} and {@code runs}, so it may run before
   * the image pids are known (before the final images arrive); {@link #writePagemaps} with the
   * same processes in the same order completes the dir.
   */
  void writePages(Path dir, ParentSnapshot snapshot, PageSource pages) throws IOException;

  /** Where the destination's page data comes from (its store). */
  interface PageSource {
    /**
     * Appends {@code pages} pages of process {@code pid} (the tracking pid) starting at {@code
     * address} to {@code out}, in address order. Pages the store lacks are a DATA_LOSS-grade
     * failure: throw.
     */
    void copyTo(int pid, long address, int pages, java.nio.channels.WritableByteChannel out) throws IOException;
  }
}
