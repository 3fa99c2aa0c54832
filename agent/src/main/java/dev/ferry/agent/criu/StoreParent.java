package dev.ferry.agent.criu;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.StoreException;
import com.google.protobuf.MessageLite;
import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import java.nio.channels.FileChannel;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import dev.ferry.agent.criu.image.CriuImageFile;
import dev.ferry.agent.criu.image.CriuMagic;
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
 * parent pagemap" check no longer catches a page the destination lacks: {@link #absorbFinal} does,
 * against the final dump's in_parent entries, before the restore.
 *
 * <p>Reads the store after its last round was committed (the store's reader contract).
 */
public final class StoreParent {
  private static final int PE_PARENT = 1;
  private static final int PE_LAZY = 2;
  private static final int PE_PRESENT = 4;

  private final PageStore store;

  public StoreParent(PageStore store) {
    this.store = store;
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

  /** What {@link #absorbFinal} did, for the logs and the bench. */
  public record Absorbed(long pagesMoved, int entriesBefore, int entriesAfter) {}

  /**
   * Prepares the final dump in {@code finalDir} for a restore over the linked parent: checks that
   * every page it takes from the parent is held by the store (else the restore would read a hole
   * of the layout, zeros: DATA_LOSS-grade), then moves its own pages into the store's layout at
   * their places and rewrites its pagemap as a few long in_parent runs.
   *
   * <p>Why: CRIU restores a dump with a parent through its premapped path, one preadv per pagemap
   * entry of each layer; every page dirtied in the last round splits a parent run in two, so a
   * final dump of N scattered pages meant ~2N small reads (3.6 s of restore for 256 MiB vs 0.6 s
   * without a parent, in the lab). Merged, the restore reads one run per area.
   *
   * <p>The original pagemap is kept as {@code pagemap-<pid>.img.orig} and is what a retried call
   * starts from; the store's layout is marked changed (it holds pages the store's index does not),
   * so any later use lays it out anew from the store. A process whose final dump has a page
   * outside the layout's slots, or an entry that is neither in_parent nor present, is left as
   * CRIU wrote it (correct, only slower).
   */
  public Absorbed absorbFinal(Path finalDir, ParentSnapshot linked) throws CriuFailure {
    long moved = 0;
    int before = 0, after = 0;
    try {
      ImagePids pids = ImagePids.read(finalDir);
      int pagesIdInParent = 0;
      for (ParentSnapshot.Process p : linked.processes()) {
        pagesIdInParent++;
        Path pagemap = finalDir.resolve("pagemap-" + pids.imagePid(p.pid()) + ".img");
        Path orig = pagemap.resolveSibling(pagemap.getFileName() + ".orig");
        if (!Files.exists(orig)) {
          if (!Files.exists(pagemap)) {
            continue;
          }
          Files.move(pagemap, orig);
        }
        CriuImageFile.Image image = CriuImageFile.read(orig);
        if (image.magic() != CriuMagic.PAGEMAP || image.entries().isEmpty()) {
          throw new CriuFailure(CriuFailure.Reason.BAD_OUTPUT, orig + " is not a pagemap image", "");
        }
        PagemapHead head = CriuImageFile.entry(image, 0, PagemapHead.parser());
        List<PagemapEntry> entries = new ArrayList<>(image.entries().size() - 1);
        for (int i = 1; i < image.entries().size(); i++) {
          entries.add(CriuImageFile.entry(image, i, PagemapEntry.parser()));
        }
        before += entries.size();
        check(p.pid(), entries);
        List<MessageLite> rewritten = merge(p, head, entries, finalDir.resolve("pages-" + head.getPagesId() + ".img"));
        if (rewritten == null) {
          Files.copy(orig, pagemap, StandardCopyOption.REPLACE_EXISTING);
          after += entries.size();
          continue;
        }
        store.parentLayoutChanged(p.pid());
        for (PagemapEntry e : entries) {
          if ((e.getFlags() & PE_PRESENT) != 0) {
            moved += Integer.toUnsignedLong(e.getNrPages());
          }
        }
        CriuImageFile.write(pagemap, CriuMagic.PAGEMAP, rewritten);
        after += rewritten.size() - 1;
      }
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot merge the final dump in " + finalDir + " into the parent: " + e.getMessage(), e);
    }
    return new Absorbed(moved, before, after);
  }

  private void check(int pid, List<PagemapEntry> entries) throws CriuFailure {
    for (PagemapEntry e : entries) {
      if (!inParent(e)) {
        continue;
      }
      long missing = store.firstMissing(pid, e.getVaddr(), Integer.toUnsignedLong(e.getNrPages()));
      if (missing != -1) {
        throw new CriuFailure(CriuFailure.Reason.BAD_OUTPUT, "the final dump takes page " + Long.toHexString(missing) + " of pid " + pid
            + " from the parent, but the destination's store does not hold it", "");
      }
    }
  }

  private static boolean inParent(PagemapEntry e) {
    return (e.getFlags() & PE_PARENT) != 0 || e.getInParent();
  }

  /**
   * Copies the present entries' pages from the final pages image into the layout of {@code p} and
   * returns the new pagemap (head + merged in_parent runs), or null when it cannot (then nothing
   * was written).
   */
  private List<MessageLite> merge(ParentSnapshot.Process p, PagemapHead head, List<PagemapEntry> entries, Path pagesImage)
      throws IOException {
    List<AddressRange> slots = p.runs();
    long[] slotOffsets = new long[slots.size()];
    for (int i = 1; i < slots.size(); i++) {
      slotOffsets[i] = slotOffsets[i - 1] + slots.get(i - 1).bytes();
    }
    for (PagemapEntry e : entries) {
      boolean present = (e.getFlags() & PE_PRESENT) != 0;
      if (present == inParent(e) || (e.getFlags() & PE_LAZY) != 0 || slotOf(slots, e) < 0) {
        return null;
      }
    }
    Path layout;
    try {
      layout = store.parentLayout(p.pid()).pagesFile();
    } catch (StoreException e) {
      throw new IOException("the store's page layout of pid " + p.pid() + ": " + e.getMessage(), e);
    }
    try (FileChannel in = FileChannel.open(pagesImage, StandardOpenOption.READ);
        FileChannel out = FileChannel.open(layout, StandardOpenOption.WRITE)) {
      long from = 0;
      for (PagemapEntry e : entries) {
        if ((e.getFlags() & PE_PRESENT) == 0) {
          continue;
        }
        int s = slotOf(slots, e);
        long bytes = Integer.toUnsignedLong(e.getNrPages()) * PageSize.BYTES;
        long to = slotOffsets[s] + (e.getVaddr() - slots.get(s).start());
        long done = 0;
        while (done < bytes) {
          out.position(to + done);
          long n = in.transferTo(from + done, bytes - done, out);
          if (n <= 0) {
            throw new IOException(pagesImage + " ends before the pages its pagemap lists");
          }
          done += n;
        }
        from += bytes;
      }
    }
    List<MessageLite> merged = new ArrayList<>();
    merged.add(head);
    long start = -1, end = -1;
    for (PagemapEntry e : entries) {
      long s = e.getVaddr(), t = s + Integer.toUnsignedLong(e.getNrPages()) * PageSize.BYTES;
      if (s == end && t - start <= MAX_RUN) {
        end = t;
        continue;
      }
      if (start != -1) {
        merged.add(parentRun(start, end));
      }
      start = s;
      end = t;
    }
    if (start != -1) {
      merged.add(parentRun(start, end));
    }
    return merged;
  }

  /** nr_pages is a uint32; runs stay well below. */
  private static final long MAX_RUN = 1L << 40;

  private static PagemapEntry parentRun(long start, long end) {
    return PagemapEntry.newBuilder().setVaddr(start).setNrPages(Math.toIntExact((end - start) / PageSize.BYTES)).setFlags(PE_PARENT).build();
  }

  /** The slot holding all of {@code e}, or -1. */
  private static int slotOf(List<AddressRange> slots, PagemapEntry e) {
    long s = e.getVaddr(), t = s + Integer.toUnsignedLong(e.getNrPages()) * PageSize.BYTES;
    int lo = 0, hi = slots.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (slots.get(mid).start() <= s) {
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return hi >= 0 && t <= slots.get(hi).end() ? hi : -1;
  }
}
