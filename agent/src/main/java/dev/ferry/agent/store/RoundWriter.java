package dev.ferry.agent.store;

import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one round into a {@link PageStore}. Each {@link #apply} is all or nothing; any failure
 * aborts the whole round (its files deleted), so the store keeps exactly the previous round's
 * state. {@link #commit} makes the round durable and visible.
 *
 * <p>Confined to the thread that receives the round's stream (gRPC serializes a call's callbacks).
 */
public final class RoundWriter implements AutoCloseable {
  private final PageStore store;
  private final int round;
  private final Map<Integer, long[]> areasByPid = new HashMap<>(); // sorted [start, end) pairs
  private final List<RoundLog.Removal> removals = new ArrayList<>();
  private FileChannel pages;
  private RoundLog.Writer log;
  private long pagesWritten; // page index of the next non-zero page in round-N.pages
  private long batches;
  private long pageCount;
  private boolean finished;

  RoundWriter(PageStore store, int round, List<ProcessAreas> processes) {
    this.store = store;
    this.round = round;
    for (ProcessAreas p : processes) {
      long[] pairs = new long[p.getAreasCount() * 2];
      List<dev.ferry.proto.AddressRange> sorted = new ArrayList<>(p.getAreasList());
      sorted.sort((a, b) -> Long.compareUnsigned(a.getStart(), b.getStart()));
      for (int i = 0; i < sorted.size(); i++) {
        pairs[2 * i] = sorted.get(i).getStart();
        pairs[2 * i + 1] = sorted.get(i).getEnd();
      }
      areasByPid.put(p.getPid(), pairs);
      for (dev.ferry.proto.AddressRange r : p.getRemovedList()) {
        removals.add(new RoundLog.Removal(p.getPid(), new AddressRange(r.getStart(), r.getEnd())));
      }
    }
  }

  public int round() {
    return round;
  }

  void open() throws StoreException {
    Path dir = store.directory();
    try {
      pages = FileChannel.open(dir.resolve(PageStore.pagesName(round)),
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
      log = new RoundLog.Writer(dir.resolve(PageStore.logName(round) + ".tmp"), round, removals);
    } catch (IOException e) {
      StoreException failure = StoreException.fromIo("starting round " + round + " of " + store.migrationId() + " in " + dir, e);
      abort();
      throw failure;
    }
  }

  /**
   * Stores one batch of process {@code pid}: {@code runs} in order, the non-zero runs' contents
   * concatenated in {@code data} (position to limit, consumed). On failure the round is aborted.
   */
  public void apply(int pid, List<PageRun> runs, ByteBuffer data) throws StoreException {
    checkOpen();
    long[] areas = areasByPid.get(pid);
    long dataPages = 0;
    for (PageRun run : runs) {
      if (areas == null || !inside(areas, run.getAddress(), run.getAddress() + (long) run.getPages() * PageHashing.PAGE)) {
        throw fail(new StoreException(StoreException.Kind.REJECTED, String.format(
            "round %d of %s: pages %x+%d of pid %d lie outside the areas the round header announced",
            round, store.migrationId(), run.getAddress(), run.getPages(), pid)));
      }
      if (!run.getZero()) {
        dataPages += run.getPages();
      }
    }
    if (data.remaining() != dataPages * PageHashing.PAGE) {
      throw fail(new StoreException(StoreException.Kind.REJECTED, "round " + round + ": batch carries "
          + data.remaining() + " bytes for " + dataPages + " non-zero pages"));
    }
    PageHashing hashing = store.hashing();
    List<RoundLog.Entry> entries = new ArrayList<>();
    int offset = data.position();
    long index = pagesWritten;
    for (PageRun run : runs) {
      for (int i = 0; i < run.getPages(); i++) {
        long address = run.getAddress() + (long) i * PageHashing.PAGE;
        if (run.getZero()) {
          entries.add(new RoundLog.Entry(pid, address, PageHashing.pageHash(pid, address, hashing.zeroContentHash()), RoundLog.ZERO_LOCATION));
        } else {
          long hash = PageHashing.pageHash(pid, address, hashing.contentHash(data, offset));
          entries.add(new RoundLog.Entry(pid, address, hash, index++));
          offset += PageHashing.PAGE;
        }
      }
    }
    try {
      long at = pagesWritten * PageHashing.PAGE;
      while (data.hasRemaining()) {
        at += pages.write(data, at);
      }
      log.append(entries);
    } catch (IOException e) {
      throw fail(StoreException.fromIo("round " + round + " of " + store.migrationId() + ": writing to " + store.directory(), e));
    }
    pagesWritten = index;
    batches++;
    pageCount += entries.size();
  }

  /** The round's result after commit. */
  public record Commit(long pagesApplied, PageStore.Status status) {}

  /**
   * Checks the sender's counts, forces data and log to disk and renames the log into place:
   * from then on the round survives a crash. Then the index is updated from the log.
   */
  public Commit commit(long expectedBatches, long expectedPages) throws StoreException {
    checkOpen();
    if (expectedBatches != batches || expectedPages != pageCount) {
      throw fail(new StoreException(StoreException.Kind.CORRUPT, String.format(
          "round %d of %s: the source sent %d batches / %d pages, %d / %d arrived",
          round, store.migrationId(), expectedBatches, expectedPages, batches, pageCount)));
    }
    Path dir = store.directory();
    try {
      pages.force(true);
      log.finish();
      pages.close();
      log.close();
      Files.move(dir.resolve(PageStore.logName(round) + ".tmp"), dir.resolve(PageStore.logName(round)), StandardCopyOption.ATOMIC_MOVE);
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
    } catch (IOException e) {
      throw fail(StoreException.fromIo("committing round " + round + " of " + store.migrationId(), e));
    }
    finished = true;
    store.finishRound(this, true);
    return new Commit(pageCount, store.status());
  }

  /** Drops the round: files deleted, the store as before. Idempotent. */
  public void abort() {
    if (finished) {
      return;
    }
    finished = true;
    closeQuietly();
    store.deleteRoundFiles(round);
    try {
      store.finishRound(this, false);
    } catch (StoreException e) {
      throw new IllegalStateException(e); // cannot happen: nothing is replayed on abort
    }
  }

  @Override
  public void close() {
    abort();
  }

  private StoreException fail(StoreException e) {
    abort();
    return e;
  }

  private void checkOpen() throws StoreException {
    if (finished) {
      throw new StoreException(StoreException.Kind.REJECTED, "round " + round + " of " + store.migrationId() + " is already finished");
    }
  }

  private void closeQuietly() {
    try {
      if (pages != null) {
        pages.close();
      }
      if (log != null) {
        log.close();
      }
    } catch (IOException ignored) {
      // the files are deleted next
    }
  }

  /** Whether [start, end) is covered by the sorted areas (a run may span adjacent areas). */
  private static boolean inside(long[] pairs, long start, long end) {
    long at = start;
    while (Long.compareUnsigned(at, end) < 0) {
      int i = areaContaining(pairs, at);
      if (i < 0) {
        return false;
      }
      at = pairs[2 * i + 1];
    }
    return true;
  }

  private static int areaContaining(long[] pairs, long address) {
    int lo = 0;
    int hi = pairs.length / 2 - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(pairs[2 * mid], address) > 0) {
        hi = mid - 1;
      } else if (Long.compareUnsigned(address, pairs[2 * mid + 1]) >= 0) {
        lo = mid + 1;
      } else {
        return mid;
      }
    }
    return -1;
  }
}
