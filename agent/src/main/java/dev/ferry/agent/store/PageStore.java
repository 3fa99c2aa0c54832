package dev.ferry.agent.store;

import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.AddressRuns;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.transfer.PageTable;
import dev.ferry.proto.ProcessAreas;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination's copy of one migration's memory, on disk under {@code <data-dir>/stores/<id>}.
 *
 * <p>Layout: one layer per round, {@code round-N.pages} (the round's non-zero pages, appended in
 * arrival order) and {@code round-N.log} (where each page went, which areas were dropped; see
 * {@link RoundLog}). The in-memory {@link PageTable} maps (pid, address) to the latest layer and
 * page index holding it, so the latest version wins; all-zero pages are only an index entry.
 * A round is atomic: its log is renamed into place at commit, after the data and the log are on
 * disk; a failed, cancelled or crashed round leaves no trace but files that reopen deletes.
 * Memory: the index only (16 bytes per held page); page data stays on disk.
 *
 * <p>Threading: one round writer at a time (enforced). The index changes only at commit, on the
 * round's thread; readers ({@link #readPage}, {@link #forEachPage}) must not run during a round's
 * commit (the switch-over reads after the last round). {@link #status()} is safe from any thread.
 */
public final class PageStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PageStore.class);
  private static final Pattern LAYER = Pattern.compile("round-(\\d+)\\.(pages|log|log\\.tmp)");

  /** What the store holds, published after every commit. */
  public record Status(long pages, long bytesOnDisk, long digest, int lastRound) {
    public String digestHex() {
      return PageHashing.hex(digest);
    }
  }

  private final String migrationId;
  private final Path dir;
  private final PageHashing hashing;
  private final PageTable index = new PageTable(true);
  /**
   * Open layer files by round. Written by the round's thread (commit, compaction) and cleared by
   * {@link #close}, which a Discard may call from another thread while a round commits: hence a
   * concurrent map, and a missing layer is read as "discarded" ({@link #layer}), never a crash.
   */
  private final Map<Integer, FileChannel> layers = new java.util.concurrent.ConcurrentSkipListMap<>();
  /** Index entries per layer (round); a layer at 0 holds nothing live and may be compacted. */
  private final Map<Integer, Long> live = new TreeMap<>();
  private final Set<Integer> withRemovals = new java.util.HashSet<>();
  /** The page-index part of a location meaning "all-zero page" (no data in the layer). */
  private static final long ZERO_PAGE = 0xFFFF_FFFFL;
  private final AtomicReference<RoundWriter> active = new AtomicReference<>();
  /** The page writer's staging buffers, shared by the rounds (one at a time). */
  private final PageFileWriter.Staging staging = new PageFileWriter.Staging();
  private volatile Status status = new Status(0, 0, 0, 0);
  private volatile boolean closed;
  /** With a mirror: each pid's held pages as maximal runs, as of the last commit (see {@link #firstMissing}). */
  private final Map<Integer, List<AddressRange>> heldRuns = new java.util.concurrent.ConcurrentHashMap<>();
  /** The pages laid out by address as CRIU parent pages images, kept current at each commit; null: not kept. */
  private final PageMirror mirror;
  /** Frees the disk space of pages superseded by committed rounds. */
  private final LayerHoles holes;

  private PageStore(String migrationId, Path dir, PageHashing hashing, boolean mirrored) {
    this.migrationId = migrationId;
    this.dir = dir;
    this.holes = new LayerHoles(migrationId, round -> dir.resolve(pagesName(round)));
    this.hashing = hashing;
    this.mirror = mirrored ? new PageMirror(this, dir.resolve(MIRROR_DIR)) : null;
  }

  /** Subdirectory of the {@link PageMirror} files (not a round layer; deleted with the store). */
  static final String MIRROR_DIR = "mirror";

  /** Creates an empty store in {@code dir} (which must not hold one), without a parent mirror. */
  static PageStore create(String migrationId, Path dir, PageHashing hashing) throws StoreException {
    return create(migrationId, dir, hashing, false);
  }

  /**
   * Creates an empty store in {@code dir} (which must not hold one); {@code mirrored}: also keep
   * the pages laid out by address for the CRIU restore ({@link #parentLayout}).
   */
  static PageStore create(String migrationId, Path dir, PageHashing hashing, boolean mirrored) throws StoreException {
    try {
      Files.createDirectories(dir);
      Path probe = dir.resolve(".writable");
      Files.deleteIfExists(probe);
      Files.createFile(probe);
      Files.delete(probe);
    } catch (IOException e) {
      throw StoreException.fromIo("creating the page store of " + migrationId + " in " + dir, e);
    }
    return new PageStore(migrationId, dir, hashing, mirrored);
  }

  /**
   * Reopens the store in {@code dir} after an agent restart: committed rounds are replayed,
   * uncommitted ones deleted. A damaged store is deleted with a log line and null returned.
   */
  static PageStore reopen(String migrationId, Path dir, PageHashing hashing) throws StoreException {
    return reopen(migrationId, dir, hashing, false);
  }

  /** {@link #reopen(String, Path, PageHashing)}; a parent mirror left on disk is deleted and rebuilt on demand. */
  static PageStore reopen(String migrationId, Path dir, PageHashing hashing, boolean mirrored) throws StoreException {
    PageStore store = new PageStore(migrationId, dir, hashing, mirrored);
    try {
      store.replayAll();
      if (store.mirror != null) {
        store.mirror.reset();
      }
      return store;
    } catch (IOException e) {
      log.warn("migration {}: could not clear the parent mirror in {}: {}", migrationId, dir, e.toString());
      return store;
    } catch (StoreException e) {
      log.warn("discarding the page store of migration {} in {}: {}", migrationId, dir, e.getMessage());
      store.discard();
      return null;
    }
  }

  /** A handle on {@code dir} for deleting it, whatever its state. */
  static PageStore forDeletion(String migrationId, Path dir, PageHashing hashing) {
    return new PageStore(migrationId, dir, hashing, false);
  }

  private void replayAll() throws StoreException {
    TreeMap<Integer, Set<String>> byRound = new TreeMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Matcher m = LAYER.matcher(f.getFileName().toString());
        if (m.matches()) {
          byRound.computeIfAbsent(Integer.parseInt(m.group(1)), r -> new java.util.HashSet<>()).add(m.group(2));
        }
      }
    } catch (IOException e) {
      throw StoreException.fromIo("listing " + dir, e);
    }
    int last = 0;
    for (var e : byRound.entrySet()) {
      int round = e.getKey();
      if (!e.getValue().contains("log")) {
        log.info("migration {}: deleting round {} of the page store, never committed", migrationId, round);
        deleteRoundFiles(round);
        continue;
      }
      if (round <= last) {
        throw new StoreException(StoreException.Kind.CORRUPT, "round " + round + " out of order");
      }
      Path pages = dir.resolve(pagesName(round));
      FileChannel channel = openLayer(round);
      long[] maxIndex = replayLayer(round);
      try {
        if (channel.size() < (maxIndex[0] + 1) * PageHashing.PAGE) {
          throw new StoreException(StoreException.Kind.CORRUPT, pages + " is shorter than its log says");
        }
      } catch (IOException ex) {
        throw StoreException.fromIo("reading " + pages, ex);
      }
      last = round;
    }
    publish(last);
  }

  public String migrationId() {
    return migrationId;
  }

  public Path directory() {
    return dir;
  }

  public Status status() {
    return status;
  }

  /**
   * Starts writing round {@code round}; {@code processes} are the round header's areas (pages
   * outside them are rejected) and removed areas (dropped at commit).
   */
  public RoundWriter beginRound(int round, List<ProcessAreas> processes) throws StoreException {
    if (closed) {
      throw new StoreException(StoreException.Kind.NOT_FOUND, "the page store of " + migrationId + " was discarded");
    }
    if (round <= status.lastRound()) {
      throw new StoreException(StoreException.Kind.REJECTED,
          "round " + round + " of " + migrationId + " is not after the last stored round " + status.lastRound());
    }
    RoundWriter writer = new RoundWriter(this, round, processes);
    if (!active.compareAndSet(null, writer)) {
      throw new StoreException(StoreException.Kind.BUSY, "round " + active.get().round() + " of " + migrationId + " is still being received");
    }
    try {
      writer.open();
    } catch (StoreException e) {
      active.set(null);
      throw e;
    }
    return writer;
  }

  /**
   * Copies the stored page into {@code dst} (4096 bytes at its position, position advanced).
   * Returns false (dst untouched) when the store does not hold it.
   */
  public boolean readPage(int pid, long address, ByteBuffer dst) throws StoreException {
    if (index.hash(pid, address) == 0) {
      return false;
    }
    long loc = index.location(pid, address);
    if ((loc & ZERO_PAGE) == ZERO_PAGE) {
      for (int i = 0; i < PageHashing.PAGE; i += 8) {
        dst.putLong(0L);
      }
      return true;
    }
    int round = (int) (loc >>> 32);
    long offset = (loc & 0xFFFF_FFFFL) * PageHashing.PAGE;
    FileChannel channel = layer(round);
    ByteBuffer view = dst.slice().limit(PageHashing.PAGE);
    try {
      while (view.hasRemaining()) {
        if (channel.read(view, offset + view.position()) < 0) {
          throw new StoreException(StoreException.Kind.CORRUPT, pagesName(round) + " ends before page " + Long.toHexString(address));
        }
      }
    } catch (IOException e) {
      throw closed ? discarded("reading " + pagesName(round)) : StoreException.fromIo("reading " + dir.resolve(pagesName(round)), e);
    }
    dst.position(dst.position() + PageHashing.PAGE);
    return true;
  }

  /**
   * Appends the stored pages {@code [address, address + pages * 4096)} of {@code pid} to {@code
   * out} in address order, as {@link #readPage} page by page would, but without a read per page:
   * the round files are mapped and the pages gathered in a 1 MiB buffer written out when full.
   * After several rounds the newest copies of neighbouring pages lie in different round files, so
   * stored runs are short; a syscall per run or per page made laying out a parent image of a whole
   * process slower than a full dump (11-21 s for 256 MiB in the emulated lab). Returns the address
   * of the first page the store does not hold (pages before it written), or -1 when all were
   * written. Same reader contract as {@link #readPage}.
   */
  public long copyPages(int pid, long address, int pages, java.nio.channels.WritableByteChannel out) throws StoreException {
    return new Copier((int) Math.min((long) pages * PageHashing.PAGE, 1 << 20)).copy(pid, address, pages, out);
  }

  /**
   * {@link #copyPages} for many runs: keeps its staging buffer and the round files' mappings
   * between calls (a mapping and a buffer per run cost more than the copy for short runs). Use it
   * within one reader phase (no commit in between: a later layer would be missing).
   */
  final class Copier {
    private final ByteBuffer staging;
    private final Map<Integer, ByteBuffer> mapped = new TreeMap<>();

    Copier(int bufferBytes) {
      staging = ByteBuffer.allocateDirect(Math.max(PageHashing.PAGE, bufferBytes));
    }

    long copy(int pid, long address, int pages, java.nio.channels.WritableByteChannel out) throws StoreException {
      int page = PageHashing.PAGE;
      staging.clear();
      try {
        for (int i = 0; i < pages; i++) {
          long a = address + (long) i * page;
          if (index.hash(pid, a) == 0) {
            flush(staging, out);
            return a;
          }
          if (!staging.hasRemaining()) {
            flush(staging, out);
          }
          long loc = index.location(pid, a);
          if ((loc & ZERO_PAGE) == ZERO_PAGE) {
            for (int b = 0; b < page; b += 8) {
              staging.putLong(0L);
            }
            continue;
          }
          int round = (int) (loc >>> 32);
          long at = (loc & 0xFFFF_FFFFL) * page;
          FileChannel channel = layer(round);
          if (channel.size() > Integer.MAX_VALUE) { // beyond one mapping: read this page
            ByteBuffer view = staging.slice().limit(page);
            while (view.hasRemaining()) {
              if (channel.read(view, at + view.position()) < 0) {
                throw new StoreException(StoreException.Kind.CORRUPT, pagesName(round) + " ends before page " + Long.toHexString(a));
              }
            }
            staging.position(staging.position() + page);
            continue;
          }
          ByteBuffer layer = mapped.get(round);
          if (layer == null) {
            layer = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            mapped.put(round, layer);
          }
          if (at + page > layer.capacity()) {
            throw new StoreException(StoreException.Kind.CORRUPT, pagesName(round) + " ends before page " + Long.toHexString(a));
          }
          staging.put(layer.slice((int) at, page));
        }
        flush(staging, out);
      } catch (IOException e) {
        throw closed ? discarded("copying pages of pid " + pid) : StoreException.fromIo("copying pages of pid " + pid + " from " + dir, e);
      }
      return -1;
    }
  }

  private static void flush(ByteBuffer staging, java.nio.channels.WritableByteChannel out) throws IOException {
    staging.flip();
    while (staging.hasRemaining()) {
      out.write(staging);
    }
    staging.clear();
  }

  /**
   * Where the CRIU parent pages image of {@code pid} is: a file of slots (the held runs, ascending,
   * each at the file offset where the previous slot ended: gap-free) holding every held page at its place;
   * a pagemap with one PE_PRESENT entry per slot describes it. Kept current at each commit when the
   * store was opened with a mirror; otherwise (or after a failed update) laid out now. Reader
   * contract as {@link #readPage}.
   */
  public ParentLayout parentLayout(int pid) throws StoreException {
    PageMirror m = mirror != null ? mirror : new PageMirror(this, dir.resolve(MIRROR_DIR));
    List<AddressRange> slots = new ArrayList<>();
    for (PageMirror.Slot s : m.current(pid)) {
      slots.add(s.range());
    }
    return new ParentLayout(m.file(pid), slots);
  }

  /**
   * The caller wrote into {@code pid}'s {@link #parentLayout} file (through a hard link: the flat
   * top layer of the switch-over): the store stops treating it as its mirror, and lays the
   * process out anew, into a fresh file, if it needs the layout again.
   */
  public void parentLayoutOverwritten(int pid) {
    if (mirror != null) {
      mirror.overwritten(pid);
    }
  }

  /** See {@link #parentLayout}: {@code slots} ascending, stored back to back in {@code pagesFile}. */
  public record ParentLayout(Path pagesFile, List<AddressRange> slots) {
    public ParentLayout {
      slots = List.copyOf(slots);
    }
  }

  /**
   * The first page of {@code [address, address + pages * 4096)} the store does not hold, or -1.
   * With a mirror, answered from the held runs computed at the last commit (a binary search: this
   * runs in the switch-over's downtime, once per in_parent entry of the final dump); else page by page.
   */
  public long firstMissing(int pid, long address, long pages) {
    List<AddressRange> runs = heldRuns.get(pid);
    if (runs != null) {
      long end = address + pages * PageHashing.PAGE;
      int lo = 0, hi = runs.size() - 1;
      while (lo <= hi) { // the last run starting at or before address
        int mid = (lo + hi) >>> 1;
        if (runs.get(mid).start() <= address) {
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      if (hi < 0 || runs.get(hi).end() <= address) {
        return pages == 0 ? -1 : address;
      }
      return end <= runs.get(hi).end() ? -1 : runs.get(hi).end(); // runs are maximal: the page after one is not held
    }
    for (long i = 0; i < pages; i++) {
      long a = address + i * PageHashing.PAGE;
      if (index.hash(pid, a) == 0) {
        return a;
      }
    }
    return -1;
  }

  /** Runs of consecutive held pages of {@code pid} stored by round {@code round} (-1: any round), ascending. */
  List<AddressRange> runsOfRound(int pid, int round) {
    AddressRuns runs = new AddressRuns();
    index.forEach(pid, (address, hash, loc) -> {
      if (round == -1 || (int) (loc >>> 32) == round) {
        runs.add(address);
      }
    });
    return runs.ranges();
  }

  /** The pids with pages in the store, ascending. */
  public Set<Integer> pids() {
    return index.pids();
  }

  /** Visits the held pages of {@code pid} in address order (location -1: all-zero page). */
  public void forEachPage(int pid, PageTable.PageVisitor visitor) {
    index.forEach(pid, (address, hash, loc) -> visitor.page(address, hash, (loc & ZERO_PAGE) == ZERO_PAGE ? -1 : loc));
  }

  /** Deletes the store from disk; any round in progress is aborted. Idempotent. */
  public void discard() {
    RoundWriter writer = active.get();
    if (writer != null) {
      writer.abort();
    }
    close();
    try {
      if (Files.exists(dir)) {
        try (Stream<Path> walk = Files.walk(dir)) {
          for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        }
      }
    } catch (IOException e) {
      log.warn("migration {}: could not delete all of {}: {}", migrationId, dir, e.toString());
    }
  }

  @Override
  public void close() {
    closed = true;
    for (FileChannel c : layers.values()) {
      try {
        c.close();
      } catch (IOException e) {
        log.debug("closing a layer of {}: {}", migrationId, e.toString());
      }
    }
    layers.clear();
  }

  // ---- used by RoundWriter (same thread as the round) ----

  long heldHash(int pid, long address) {
    return index.hash(pid, address);
  }

  long heldHashSum(int pid, long start, long end) {
    return index.hashSum(pid, start, end);
  }

  long heldDigest() {
    return index.digest();
  }

  PageHashing hashing() {
    return hashing;
  }

  PageFileWriter.Staging staging() {
    return staging;
  }

  static String pagesName(int round) {
    return String.format("round-%06d.pages", round);
  }

  static String logName(int round) {
    return String.format("round-%06d.log", round);
  }

  static long location(int round, long pageIndex) {
    return ((long) round << 32) | pageIndex;
  }

  void finishRound(RoundWriter writer, boolean committed) throws StoreException {
    try {
      if (committed) {
        int round = writer.round();
        if (closed) {
          throw discarded("committing round " + round);
        }
        layers.put(round, openLayer(round));
        replayLayer(round);
        compact(round);
        if (mirror != null) {
          mirror.roundCommitted(round);
          heldRuns.clear();
          for (int pid : pids()) {
            heldRuns.put(pid, runsOfRound(pid, -1));
          }
        }
        publish(round);
      }
    } finally {
      active.compareAndSet(writer, null);
    }
  }

  /**
   * Applies layer {@code round}'s log to the index, keeping each layer's count of live pages.
   * Returns {highest page index the log names} (-1 if none).
   */
  private long[] replayLayer(int round) throws StoreException {
    long[] maxIndex = {-1};
    PageTable.PageVisitor dropped = (address, hash, loc) -> {
      int layer = (int) (loc >>> 32);
      live.merge(layer, -1L, Long::sum);
      long page = loc & ZERO_PAGE;
      if (page != ZERO_PAGE) {
        holes.superseded(layer, page); // this round is committed: the older copy is dead
      }
    };
    long added;
    try {
      added = replayLog(round, dropped, maxIndex);
    } finally {
      holes.flush();
    }
    live.merge(round, added, Long::sum); // once per layer: a boxed TreeMap merge per page showed in the commit's profile
    return maxIndex;
  }

  /** Replays layer {@code round}'s log into the index; returns how many entries it named. */
  private long replayLog(int round, PageTable.PageVisitor dropped, long[] maxIndex) throws StoreException {
    long[] added = {0};
    RoundLog.replay(dir.resolve(logName(round)), round, new RoundLog.Replay() {
      @Override
      public void removal(RoundLog.Removal r) {
        withRemovals.add(round);
        index.removeRange(r.pid(), r.range().start(), r.range().end(), dropped);
      }

      @Override
      public void entry(RoundLog.Entry en) {
        long old = index.hash(en.pid(), en.address()) == 0 ? 0 : index.location(en.pid(), en.address());
        if (old != 0) {
          dropped.page(en.address(), 0, old);
        }
        boolean zero = en.location() == RoundLog.ZERO_LOCATION;
        index.put(en.pid(), en.address(), en.hash(), location(round, zero ? ZERO_PAGE : en.location()));
        added[0]++;
        maxIndex[0] = Math.max(maxIndex[0], en.location());
      }
    });
    return added[0];
  }

  /**
   * Compaction: deletes the layers older than {@code newest} that no longer hold a live page
   * (every page superseded by a later round or dropped by a later removal). Only layers without
   * removals go: replaying the remaining logs then rebuilds exactly the same index, so a crash
   * during or after the deletion loses nothing. (A layer that dropped areas keeps its log, since
   * its removals still shadow pages of older layers during a replay.)
   */
  private void compact(int newest) {
    for (var it = live.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      int round = e.getKey();
      if (round < newest && e.getValue() == 0 && !withRemovals.contains(round)) {
        FileChannel channel = layers.remove(round);
        try {
          if (channel != null) {
            channel.close();
          }
        } catch (IOException ex) {
          log.debug("closing layer {} of {}: {}", round, migrationId, ex.toString());
        }
        // The log first: without it, a reopen treats a leftover pages file as never committed.
        for (String name : List.of(logName(round), pagesName(round))) {
          try {
            Files.deleteIfExists(dir.resolve(name));
          } catch (IOException ex) {
            log.warn("migration {}: could not delete {} of a superseded layer: {}", migrationId, name, ex.toString());
          }
        }
        it.remove();
        holes.forget(round);
        log.debug("migration {}: layer of round {} superseded by later rounds, deleted", migrationId, round);
      }
    }
  }

  void deleteRoundFiles(int round) {
    for (String name : List.of(pagesName(round), logName(round), logName(round) + ".tmp")) {
      try {
        Files.deleteIfExists(dir.resolve(name));
      } catch (IOException e) {
        log.warn("migration {}: could not delete {}: {}", migrationId, name, e.toString());
      }
    }
  }

  /** Layer {@code round}'s open file; NOT_FOUND once the store was discarded (or closed) meanwhile. */
  private FileChannel layer(int round) throws StoreException {
    FileChannel channel = layers.get(round);
    if (channel == null) {
      throw discarded("reading " + pagesName(round));
    }
    return channel;
  }

  private StoreException discarded(String doing) {
    return new StoreException(StoreException.Kind.NOT_FOUND,
        "the page store of " + migrationId + " was discarded while " + doing);
  }

  private FileChannel openLayer(int round) throws StoreException {
    FileChannel existing = layers.get(round);
    if (existing != null) {
      return existing;
    }
    Path pages = dir.resolve(pagesName(round));
    try {
      if (!Files.exists(pages)) {
        throw new StoreException(StoreException.Kind.CORRUPT, pages + " is missing although its round was committed");
      }
      FileChannel channel = FileChannel.open(pages, StandardOpenOption.READ);
      layers.put(round, channel);
      return channel;
    } catch (IOException e) {
      throw StoreException.fromIo("opening " + pages, e);
    }
  }

  private void publish(int lastRound) {
    long bytes = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        bytes += Files.size(f);
      }
    } catch (IOException e) {
      log.debug("sizing {}: {}", dir, e.toString());
    }
    // the layers' punched holes (superseded pages, see LayerHoles) take no disk space
    status = new Status(index.pages(), Math.max(0, bytes - holes.punchedBytes()), index.digest(), lastRound);
  }

  List<Integer> layerRounds() {
    return new ArrayList<>(layers.keySet());
  }
}
