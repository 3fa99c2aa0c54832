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
  /**
   * Most pages (zero or not) one batch may name. Bounds the work and memory one batch costs the
   * receiver (a log entry per page): without it a single zero run of 2^31 pages inside a large
   * announced area would exhaust the heap. The sender splits its runs accordingly.
   */
  public static final int MAX_BATCH_PAGES = 1 << 16;

  private final PageStore store;
  private final int round;
  private final Map<Integer, long[]> areasByPid = new HashMap<>(); // sorted [start, end) pairs
  private final List<RoundLog.Removal> removals = new ArrayList<>();
  private PageFileWriter pages;
  private RoundLog.Writer log;
  private final dev.ferry.agent.transfer.PageTable written = new dev.ferry.agent.transfer.PageTable(false); // this round's pages
  private long digestDelta;
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
      pages = new PageFileWriter(dir.resolve(PageStore.pagesName(round)), store.staging(),
          "ferry-store-writer-" + store.migrationId() + "-round-" + round);
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
    apply(pid, runs, data, null);
  }

  /**
   * As {@link #apply(int, List, ByteBuffer)}, with the {@link PageHashing#contentHash content
   * hashes} of the data's pages already computed by the caller (null: computed here).
   */
  public void apply(int pid, List<PageRun> runs, ByteBuffer data, long[] contentHashes) throws StoreException {
    apply(pid, runs, new ByteBuffer[] {data}, contentHashes);
  }

  /**
   * As {@link #apply(int, List, ByteBuffer, long[])}, the data being the remaining bytes of
   * {@code data} one after the other (e.g. a message's payload as views of the receive buffers it
   * arrived in: the pages are copied once, from there to the page file's staging buffer).
   */
  public void apply(int pid, List<PageRun> runs, ByteBuffer[] data, long[] contentHashes) throws StoreException {
    checkOpen();
    long[] areas = areasByPid.get(pid);
    long dataPages = 0;
    long batchPages = 0;
    long[] spans = new long[runs.size() * 2];
    int n = 0;
    for (PageRun run : runs) {
      long pages = Integer.toUnsignedLong(run.getPages()); // uint32 on the wire
      long start = run.getAddress();
      batchPages += pages;
      if (pages == 0 || (start & (PageHashing.PAGE - 1)) != 0 || batchPages > MAX_BATCH_PAGES) {
        throw fail(new StoreException(StoreException.Kind.REJECTED, String.format(
            "round %d of %s: run %x+%d of pid %d is empty, not page aligned, or the batch names more than %d pages",
            round, store.migrationId(), start, pages, pid, MAX_BATCH_PAGES)));
      }
      long end = start + pages * PageHashing.PAGE;
      if (Long.compareUnsigned(end, start) <= 0 && end != 0) {
        throw fail(new StoreException(StoreException.Kind.REJECTED, String.format(
            "round %d of %s: run %x+%d of pid %d wraps past the top of the address space",
            round, store.migrationId(), start, pages, pid)));
      }
      spans[n++] = start;
      spans[n++] = end;
      if (areas == null || end == 0 || !inside(areas, start, end)) {
        throw fail(new StoreException(StoreException.Kind.REJECTED, String.format(
            "round %d of %s: pages %x+%d of pid %d lie outside the areas the round header announced",
            round, store.migrationId(), run.getAddress(), run.getPages(), pid)));
      }
      if (!run.getZero()) {
        dataPages += run.getPages();
      }
    }
    requireDisjoint(spans, pid);
    long bytes = 0;
    for (ByteBuffer b : data) {
      bytes += b.remaining();
    }
    if (bytes != dataPages * PageHashing.PAGE) {
      throw fail(new StoreException(StoreException.Kind.REJECTED, "round " + round + ": batch carries "
          + bytes + " bytes for " + dataPages + " non-zero pages"));
    }
    PageHashing hashing = store.hashing();
    if (contentHashes == null) {
      contentHashes = new long[(int) dataPages];
      hashing.contentHashes(data, contentHashes);
    }
    List<RoundLog.Entry> entries = new ArrayList<>();
    long index = pagesWritten;
    for (PageRun run : runs) {
      for (int i = 0; i < run.getPages(); i++) {
        long address = run.getAddress() + (long) i * PageHashing.PAGE;
        if (run.getZero()) {
          entries.add(new RoundLog.Entry(pid, address, PageHashing.pageHash(pid, address, hashing.zeroContentHash()), RoundLog.ZERO_LOCATION));
        } else {
          long hash = PageHashing.pageHash(pid, address, contentHashes[(int) (index - pagesWritten)]);
          entries.add(new RoundLog.Entry(pid, address, hash, index++));
        }
      }
    }
    try {
      for (ByteBuffer b : data) {
        pages.append(b); // copied into a staging buffer; written behind this thread (PageFileWriter)
      }
      log.append(entries);
    } catch (IOException e) {
      throw fail(StoreException.fromIo("round " + round + " of " + store.migrationId() + ": writing to " + store.directory(), e));
    }
    for (RoundLog.Entry e : entries) {
      track(e.pid(), e.address(), e.hash());
    }
    pagesWritten = index;
    batches++;
    pageCount += entries.size();
  }

  /**
   * Keeps {@link #digestDelta}: what this round changes in the store's digest once committed.
   * A page stored twice in the round counts once (the later copy); a page under a removed area
   * replaces nothing (the removal already took the old copy).
   */
  private void track(int pid, long address, long hash) {
    long previous = written.put(pid, address, hash, 0);
    if (previous == 0) {
      previous = removedAt(pid, address) ? 0 : store.heldHash(pid, address);
    }
    digestDelta += hash - previous;
  }

  private boolean removedAt(int pid, long address) {
    for (RoundLog.Removal r : removals) {
      if (r.pid() == pid && r.range().contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** The store's digest after this round would commit: removals first, then the round's pages. */
  long digestAfterCommit() {
    long digest = store.heldDigest();
    List<RoundLog.Removal> counted = new ArrayList<>();
    for (RoundLog.Removal r : removals) {
      // overlapping removals of one pid: count each held page once
      long start = r.range().start();
      long end = r.range().end();
      digest -= store.heldHashSum(r.pid(), start, end);
      for (RoundLog.Removal c : counted) {
        if (c.pid() == r.pid()) {
          long from = Math.max(start, c.range().start());
          long to = Math.min(end, c.range().end());
          if (from < to) {
            digest += store.heldHashSum(r.pid(), from, to);
          }
        }
      }
      counted.add(r);
    }
    return digest + digestDelta;
  }

  /**
   * Where the round's store time went, for the receiver's log line: the receiving thread waiting
   * for a free staging buffer (the disk is behind), and the writer thread's time in write calls.
   */
  public String writeFigures() {
    return pages == null ? "no page file" : String.format("waited %d ms for staging buffers, writer %d ms in write calls (%s)",
        pages.stagingWaitNanos() / 1_000_000, pages.writeNanos() / 1_000_000, pages.direct() ? "O_DIRECT" : "buffered");
  }

  /** The round's result after commit. */
  public record Commit(long pagesApplied, PageStore.Status status) {}

  /**
   * Checks the sender's counts, forces data and log to disk and renames the log into place:
   * from then on the round survives a crash. Then the index is updated from the log.
   */
  public Commit commit(long expectedBatches, long expectedPages) throws StoreException {
    return commit(expectedBatches, expectedPages, null);
  }

  /**
   * As {@link #commit(long, long)}, and refuses the round (CORRUPT, nothing applied) unless the
   * store's digest after it would be {@code expectedDigestHex} (the source's; null: not checked).
   */
  public Commit commit(long expectedBatches, long expectedPages, String expectedDigestHex) throws StoreException {
    checkOpen();
    if (expectedBatches != batches || expectedPages != pageCount) {
      throw fail(new StoreException(StoreException.Kind.CORRUPT, String.format(
          "round %d of %s: the source sent %d batches / %d pages, %d / %d arrived",
          round, store.migrationId(), expectedBatches, expectedPages, batches, pageCount)));
    }
    if (expectedDigestHex != null) {
      String would = PageHashing.hex(digestAfterCommit());
      if (!would.equals(expectedDigestHex)) {
        throw fail(new StoreException(StoreException.Kind.CORRUPT, String.format(
            "round %d of %s: the destination would hold digest %s but the source's is %s; round refused, the store keeps round %d",
            round, store.migrationId(), would, expectedDigestHex, store.status().lastRound())));
      }
    }
    Path dir = store.directory();
    try {
      pages.drain();
      pages.force();
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
  /**
   * Runs of one batch must not overlap: the same page twice would be stored twice and counted
   * twice. (Across batches a later copy of a page replaces the earlier one, as on the source.)
   */
  private void requireDisjoint(long[] spans, int pid) throws StoreException {
    int runs = spans.length / 2;
    if (runs < 2) {
      return;
    }
    Integer[] order = new Integer[runs];
    for (int i = 0; i < runs; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Long.compareUnsigned(spans[2 * a], spans[2 * b]));
    for (int i = 1; i < runs; i++) {
      long previousEnd = spans[2 * order[i - 1] + 1];
      long start = spans[2 * order[i]];
      if (Long.compareUnsigned(start, previousEnd) < 0) {
        throw fail(new StoreException(StoreException.Kind.REJECTED, String.format(
            "round %d of %s: runs at %x and %x of pid %d overlap", round, store.migrationId(),
            spans[2 * order[i - 1]], start, pid)));
      }
    }
  }

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
