package dev.ferry.agent.store;

import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.transfer.PageHashing;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's pages of each process also kept, round by round, in one file per process laid out
 * by address: the file is a sequence of <em>slots</em> (address ranges, ascending, each at the file
 * offset where the previous one ended), and the page at address {@code a} of slot {@code s} lives
 * at {@code s.offset + (a - s.start)}. Slots are exactly the held runs (gap-free: the file is the
 * held pages in address order, a flat pages image), and a round's pages are written in place at
 * commit when they fall inside them.
 *
 * <p>Why: such a file with a pagemap of one PE_PRESENT entry per slot IS a CRIU parent pages image
 * ({@code pages-N.img} is read at the cumulative offset of the pagemap entries). The switch-over
 * then lays out nothing (it used to copy the whole memory out of the round layers after the
 * freeze), and restore reads long runs. The pagemap may list more than is held: restore only
 * reads the pages the final dump marks in_parent, which are held (see PageStore#firstMissing).
 *
 * <p>Cost: the pages are written twice (round layer and mirror), at commit (one full write after
 * round 1 or when a page falls outside the slots, the round's pages after that). A failed update
 * marks the process's mirror stale; {@link #current} then rebuilds it. Not crash-safe and needs
 * not be: it is derived data, deleted and rebuilt when the store is reopened.
 *
 * <p>Why the round layer is still written first, although the mirror alone would halve the
 * destination's writes (considered for the transfer throughput, session 4): the round layer is the
 * store's redo log. A round is atomic only because its pages go to a new file that counts once its
 * log is renamed into place; writing them into the mirror in place while the round streams would
 * overwrite round k's pages before round k+1 is known to be complete and intact (a batch refused
 * with DATA_LOSS, a digest mismatch at the trailer, a cancelled stream or a crash would leave the
 * mirror a mix of two rounds that no digest vouches for, and nothing to rebuild it from). Keeping
 * the mirror as the only copy needs an undo copy of each overwritten page (the same write volume)
 * or shadow slots switched at commit (which is what the round layer is). What can go is the cost on
 * the acknowledgement path: the mirror is needed only at switch-over, so its update could run
 * behind the next round (the next commit, {@link #current} and the held runs waiting for it); and
 * round 1 of a fresh store (nothing to protect) could be laid out directly. Neither is done yet:
 * the host benchmark runs without a mirror (no CRIU there), so it does not measure this cost.
 *
 * <p>Threading: confined to the store's round thread / its readers (the store's contract).
 */
final class PageMirror {
  private static final Logger log = LoggerFactory.getLogger(PageMirror.class);
  private static final int PAGE = PageHashing.PAGE;

  /** One slot: {@code range} of addresses at file offset {@code offset}. */
  record Slot(AddressRange range, long offset) {}

  private final PageStore store;
  private final Path dir;
  /** Current layouts; a pid missing here has a stale (or no) mirror. */
  private final Map<Integer, List<Slot>> layouts = new TreeMap<>();

  PageMirror(PageStore store, Path dir) {
    this.store = store;
    this.dir = dir;
  }

  Path file(int pid) {
    return dir.resolve("pages-of-" + pid + ".img");
  }

  /** Deletes whatever an earlier run left (the index it mirrored is replayed anew). */
  void reset() throws IOException {
    layouts.clear();
    if (Files.isDirectory(dir)) {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
      }
    }
  }

  /**
   * After round {@code round}'s commit: writes its pages in place, or lays the process out anew
   * when a page lies outside its slots. Never fails the round: a failure leaves the mirror stale.
   */
  void roundCommitted(int round) {
    for (int pid : store.pids()) {
      try {
        List<Slot> slots = layouts.get(pid);
        List<AddressRange> fresh = store.runsOfRound(pid, round);
        if (slots == null || !covered(slots, fresh)) {
          rebuild(pid);
        } else {
          try (FileChannel out = FileChannel.open(file(pid), StandardOpenOption.WRITE)) {
            write(pid, fresh, slots, out);
          }
        }
      } catch (IOException | StoreException e) {
        layouts.remove(pid);
        log.warn("migration {}: the parent mirror of pid {} is stale after round {} ({}); the switch-over lays it out", store.migrationId(),
            pid, round, e.toString());
      }
    }
  }

  /** The slots of {@code pid}'s file, rebuilt first if stale. */
  List<Slot> current(int pid) throws StoreException {
    List<Slot> slots = layouts.get(pid);
    if (slots != null) {
      return slots;
    }
    try {
      return rebuild(pid);
    } catch (IOException e) {
      throw StoreException.fromIo("laying out the parent mirror of pid " + pid + " in " + dir, e);
    }
  }

  private List<Slot> rebuild(int pid) throws IOException, StoreException {
    layouts.remove(pid);
    List<AddressRange> held = store.runsOfRound(pid, -1);
    List<Slot> slots = slotsFor(held);
    Files.createDirectories(dir);
    Path tmp = dir.resolve(file(pid).getFileName() + ".tmp");
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      write(pid, held, slots, out);
    }
    Files.move(tmp, file(pid), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    layouts.put(pid, slots);
    return slots;
  }

  private void write(int pid, List<AddressRange> runs, List<Slot> slots, FileChannel out) throws IOException, StoreException {
    PageStore.Copier copier = store.new Copier(1 << 20);
    int s = 0;
    for (AddressRange r : runs) {
      while (slots.get(s).range().end() <= r.start()) {
        s++;
      }
      Slot slot = slots.get(s);
      out.position(slot.offset() + (r.start() - slot.range().start()));
      long missing = copier.copy(pid, r.start(), Math.toIntExact(r.bytes() / PAGE), out);
      if (missing != -1) {
        throw new StoreException(StoreException.Kind.CORRUPT, "page " + Long.toHexString(missing) + " of pid " + pid + " vanished");
      }
    }
  }

  /** Whether every run lies inside one slot (runs and slots ascending). */
  static boolean covered(List<Slot> slots, List<AddressRange> runs) {
    int s = 0;
    for (AddressRange r : runs) {
      while (s < slots.size() && slots.get(s).range().end() <= r.start()) {
        s++;
      }
      if (s == slots.size() || r.start() < slots.get(s).range().start() || r.end() > slots.get(s).range().end()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Slots for held runs (ascending): exactly the runs, gap-free. A padded slot (what this was until
   * session 5: 64 MiB clusters) let a round's new pages nearby be written in place, but the file
   * was then no flat pages image: padding spans unmapped gaps and unwritten file-backed pages, and
   * a flat layer ({@code criu.FlatTop}) needs every page of the file to be a held page in address
   * order. A round with a page outside the runs now lays the process out anew (a full write).
   */
  static List<Slot> slotsFor(List<AddressRange> runs) {
    List<Slot> slots = new ArrayList<>(runs.size());
    long offset = 0;
    long previousEnd = Long.MIN_VALUE;
    for (AddressRange r : runs) {
      if (r.start() == previousEnd) { // adjacent runs are one slot
        Slot last = slots.remove(slots.size() - 1);
        slots.add(new Slot(new AddressRange(last.range().start(), r.end()), last.offset()));
      } else {
        slots.add(new Slot(r, offset));
      }
      offset += r.bytes();
      previousEnd = r.end();
    }
    return slots;
  }

  /**
   * The file of {@code pid} was written by someone else (the flat layer's final pages, through a
   * hard link): it no longer mirrors the store, so the next use lays it out anew, into a fresh
   * file renamed into place (the hard link keeps the written one).
   */
  void overwritten(int pid) {
    layouts.remove(pid);
  }
}
