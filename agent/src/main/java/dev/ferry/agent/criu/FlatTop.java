package dev.ferry.agent.criu;

import com.google.protobuf.MessageLite;
import dev.ferry.agent.criu.image.CriuImageFile;
import dev.ferry.agent.criu.image.CriuMagic;
import dev.ferry.agent.criu.image.PagemapScan;
import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.StoreException;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;

/**
 * The destination's FLAT top layer: {@code workDir/flat/} is the final dump (its other images
 * linked from {@code final/}) with, for each process the store holds, a pagemap of PE_PRESENT
 * [|PE_LAZY] entries over the store's gap-free layout and {@code pages-N.img} a hard link to that
 * layout with the final dump's own pages written into place ({@link FlatPlan}). No parent link:
 * CRIU then restores in place and serves the whole memory lazily where it can, instead of reading
 * every parent page in the downtime.
 *
 * <p>What is copied in the downtime is the final delta (and zeros for held pages the dump no
 * longer lists), not the memory. Everything is decided from the images before anything is
 * written; a final dump the layout cannot describe gives a {@link Fallback} with the reason, and
 * the caller restores through the parent as before. The writes touch only pages the parent path
 * never reads (those the final dump has present, or does not list), so a failure half-way still
 * leaves the parent path valid: it is a Fallback too.
 *
 * <p>The hard link keeps the written file when the store lays its layout out anew (a fresh file
 * renamed into place, {@link PageStore#parentLayoutOverwritten}); the lazy-pages daemon reads it
 * until it exits, and the store (with {@code flat/}) is removed only after that.
 */
public final class FlatTop {
  /** The flat layer's dir in the migration's work dir. */
  public static final String DIR = "flat";
  /** Its small parent layer, for pages dumped present outside the layout ({@link FlatPlan.Outside}). */
  public static final String PARENT_DIR = "flat-parent";

  public sealed interface Outcome permits Built, Fallback {}

  /**
   * Built in {@code dir}: pages listed, of which lazy, copied from the final dump, zeroed; and
   * pages dumped outside the layout, in the small parent layer ({@code parentPages}, eager).
   */
  public record Built(Path dir, long pages, long lazyPages, long copiedPages, long zeroedPages, long parentPages, Duration time,
      RestoreSteps steps) implements Outcome {}

  /** Not built: why (the restore goes through the parent). */
  public record Fallback(String reason, Duration time) implements Outcome {}

  private FlatTop() {}

  /**
   * Builds {@code workDir/flat} from {@code workDir/final} and the store's layouts, or says why not.
   * Reads the store after its last round's commit (the store's reader contract).
   */
  public static Outcome build(Path workDir, PageStore store, boolean lazy) {
    return build(workDir, store, lazy, false);
  }

  /**
   * Makes {@code workDir/flat} with every image of the final dump linked except the pagemaps and
   * pages (which {@link #build} writes): what a lazy-pages daemon reads when it starts is there
   * (pstree.img and, lab 00:35, more: with pstree.img alone it exited "Unexpected EOF on
   * (empty-image)"), so it can start while the layer is built; it reads a task's pagemap only
   * when the restore hands it the task. False (nothing made) without a pstree.img or on an error.
   */
  public static boolean prepareDir(Path workDir) {
    Path fin = Restorer.finalDir(workDir);
    Path flat = workDir.resolve(DIR);
    try {
      if (!Files.exists(fin.resolve("pstree.img"))) {
        return false;
      }
      Restorer.deleteTree(flat);
      Files.createDirectories(flat);
      try (var files = Files.list(fin)) {
        for (Path f : files.toList()) {
          String n = f.getFileName().toString();
          if (!n.equals("parent") && !n.endsWith(".log") && !n.startsWith("pagemap-") && !n.startsWith("pages-")
              && !n.equals(LazyPagesSocket.NAME)) {
            Files.createSymbolicLink(flat.resolve(n), f.toAbsolutePath());
          }
        }
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The daemon's socket name in its dir (never linked from final/). */
  private static final class LazyPagesSocket {
    static final String NAME = "lazy-pages.socket";
  }

  /**
   * {@link #build(Path, PageStore, boolean)}; {@code prepared}: {@code flat/} was just made by
   * {@link #prepareDir} (a daemon may listen there): kept, its files not linked again.
   */
  public static Outcome build(Path workDir, PageStore store, boolean lazy, boolean prepared) {
    long t0 = System.nanoTime();
    RestoreSteps.Clock clock = RestoreSteps.start();
    Path fin = Restorer.finalDir(workDir);
    Map<Integer, Rewrite> rewrites = new HashMap<>();
    try {
      ImagePids pids = ImagePids.read(fin);
      clock.lap("pids");
      NavigableSet<Long> stack = DumpedMemory.stackPages(fin);
      clock.lap("stacks");
      for (int pid : store.pids()) {
        int imagePid = pids.imagePid(pid);
        Path pagemap = fin.resolve("pagemap-" + imagePid + ".img");
        if (!Files.exists(pagemap)) {
          return fallback("pid " + pid + " (image pid " + imagePid + ") is not in the final dump", t0);
        }
        PageStore.ParentLayout layout = store.parentLayout(pid);
        clock.lap("layout");
        List<FlatPlan.Entry> entries = DumpedMemory.entries(pagemap);
        clock.lap("pagemap read");
        List<FlatPlan.Vma> vmas = DumpedMemory.vmas(fin.resolve("mm-" + imagePid + ".img"));
        clock.lap("vmas");
        FlatPlan.Verdict v = FlatPlan.plan(entries, layout.slots(), vmas, stack, lazy);
        clock.lap("plan");
        if (v instanceof FlatPlan.Incompatible i) {
          return fallback("pid " + pid + ": " + i.reason(), t0);
        }
        rewrites.put(pid, new Rewrite(imagePid, PagemapScan.pagesId(pagemap), layout.pagesFile(), (FlatPlan.Plan) v));
        clock.lap("pagemap read");
      }
      if (rewrites.isEmpty()) {
        return fallback("the store holds no process", t0);
      }
      Set<String> replaced = new HashSet<>();
      for (Rewrite r : rewrites.values()) {
        replaced.add("pagemap-" + r.imagePid + ".img");
        replaced.add("pages-" + r.pagesId + ".img");
      }
      String parentUser = othersTakingFromParent(fin, replaced);
      if (parentUser != null) {
        return fallback(parentUser + " takes pages from the parent too", t0);
      }
      clock.lap("scan");
      Path flat = workDir.resolve(DIR);
      Path flatParent = workDir.resolve(PARENT_DIR);
      if (!prepared) {
        Restorer.deleteTree(flat);
      }
      Restorer.deleteTree(flatParent);
      Files.createDirectories(flat);
      try (var files = Files.list(fin)) {
        for (Path f : files.toList()) {
          String n = f.getFileName().toString();
          if (!n.equals("parent") && !replaced.contains(n) && !n.endsWith(".log")
              && !Files.exists(flat.resolve(n), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createSymbolicLink(flat.resolve(n), f.toAbsolutePath());
          }
        }
      }
      boolean outside = false;
      for (Rewrite r : rewrites.values()) {
        outside |= !r.plan.outside().isEmpty();
      }
      if (outside) {
        Files.createDirectories(flatParent);
        Files.createSymbolicLink(flatParent.resolve("inventory.img"), fin.resolve("inventory.img").toAbsolutePath());
        Files.createSymbolicLink(flat.resolve("parent"), Path.of("..", PARENT_DIR));
      }
      clock.lap("links");
      long pages = 0, lazyPages = 0, copied = 0, zeroed = 0, parentPages = 0;
      for (Map.Entry<Integer, Rewrite> e : rewrites.entrySet()) {
        Rewrite r = e.getValue();
        Path pagesFile = flat.resolve("pages-" + r.pagesId + ".img");
        Files.createLink(pagesFile, r.layoutFile);
        store.parentLayoutOverwritten(e.getKey());
        clock.lap("links");
        write(r.plan, fin.resolve("pages-" + r.pagesId + ".img"), pagesFile);
        clock.lap("pages");
        writePagemap(flat.resolve("pagemap-" + r.imagePid + ".img"), r.pagesId, r.plan.entries());
        clock.lap("pagemap");
        if (outside) { // every process gets a parent pagemap, empty when nothing of it is outside
          writeOutside(r, fin.resolve("pages-" + r.pagesId + ".img"), flatParent);
          parentPages += r.plan.outsidePages();
          clock.lap("outside");
        }
        pages += r.plan.pages();
        lazyPages += r.plan.lazyPages();
        copied += r.plan.copiedPages();
        zeroed += r.plan.zeroedPages();
      }
      return new Built(flat, pages, lazyPages, copied, zeroed, parentPages, since(t0), merged(clock.done()));
    } catch (IOException | StoreException | RuntimeException e) {
      return fallback("building the flat layer failed: " + e, t0);
    }
  }

  /**
   * Runs the readers and the planner once on a tiny crafted final dump in {@code scratch} (made
   * and deleted here): call it off the critical path (while the source dumps). Why: the first
   * build in a JVM loads and interprets every class it touches (readers, planner, the CRIU image
   * messages); under the lab's emulation that cold start cost ~2 s of downtime, the plan itself
   * milliseconds. Never fails: a problem only leaves the classes cold.
   */
  public static void warmUp(Path scratch) {
    try {
      Files.createDirectories(scratch);
      long base = 0x7f0000000000L;
      writePagemap(scratch.resolve("pagemap-1.img"), 1, List.of(new FlatPlan.Entry(base, 2, FlatPlan.PE_PARENT),
          new FlatPlan.Entry(base + 2 * 4096, 1, FlatPlan.PE_PRESENT | FlatPlan.PE_LAZY)));
      CriuImageFile.write(scratch.resolve("mm-1.img"), CriuMagic.MM, List.of(dev.ferry.proto.criu.MmEntry.newBuilder()
          .addVmas(dev.ferry.proto.criu.VmaEntry.newBuilder().setStart(base).setEnd(base + 8 * 4096)
              .setFlags(FlatPlan.MAP_PRIVATE | FlatPlan.MAP_ANONYMOUS).setStatus(FlatPlan.VMA_ANON_PRIVATE)).build()));
      CriuImageFile.write(scratch.resolve("core-1.img"), CriuMagic.CORE, List.of(dev.ferry.proto.criu.CoreEntry.newBuilder().setMtype(1)
          .setThreadInfo(dev.ferry.proto.criu.ThreadInfoX86.newBuilder()
              .setGpregs(dev.ferry.proto.criu.UserX86RegsEntry.newBuilder().setSp(base + 4 * 4096))).build()));
      FlatPlan.plan(DumpedMemory.entries(scratch.resolve("pagemap-1.img")),
          List.of(new dev.ferry.agent.tracking.AddressRange(base, base + 4 * 4096)), DumpedMemory.vmas(scratch.resolve("mm-1.img")),
          DumpedMemory.stackPages(scratch), true);
      PagemapScan.pagesId(scratch.resolve("pagemap-1.img"));
      Path layout = scratch.resolve("layout.img");
      Files.write(layout, new byte[2 * PageSize.BYTES]);
      Files.write(scratch.resolve("final-pages.img"), new byte[PageSize.BYTES]);
      write(new FlatPlan.Plan(List.of(), List.of(new FlatPlan.Copy(0, PageSize.BYTES, PageSize.BYTES)),
          List.of(new FlatPlan.Zero(0, PageSize.BYTES)), List.of(), 2, 0, 1, 1, 0), scratch.resolve("final-pages.img"), layout);
      RestoreSteps.start().done(); // the management beans behind its CPU figures: their first use loads and initialises many classes
    } catch (IOException | RuntimeException e) {
      // cold classes only
    } finally {
      try {
        Restorer.deleteTree(scratch);
      } catch (IOException e) {
        // a scratch dir left in the work dir, removed with it
      }
    }
  }

  private record Rewrite(int imagePid, int pagesId, Path layoutFile, FlatPlan.Plan plan) {}

  /**
   * The final dump's pages into place, zeros where held pages are gone. The copies' sources are
   * ascending and back to back in the final pages file, so it is read sequentially in large chunks
   * and each copy is one positioned write of a slice: a transferTo per copy (JDK 17 maps a region
   * per call for a file target) cost 7.6 s for 32 k scattered pages under the lab's emulation.
   * Writing through a shared mapping instead (one memory copy per run) was no faster in the lab
   * (01.12: ~190 us a page against ~130 us, the first write to each page a fault) and left a
   * mapping of the whole layout until a GC. Never past the layout file's end: its size is the
   * slots' (a write past it is a plan or store error, refused rather than extending the file).
   */
  private static void write(FlatPlan.Plan plan, Path finalPages, Path layout) throws IOException {
    try (FileChannel out = FileChannel.open(layout, StandardOpenOption.WRITE)) {
      long size = out.size();
      if (!plan.copies().isEmpty()) {
        try (FileChannel in = FileChannel.open(finalPages, StandardOpenOption.READ)) {
          ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK + 4096).alignedSlice(4096);
          long chunkStart = 0, chunkEnd = 0; // the final file's bytes [chunkStart, chunkEnd) are in chunk
          for (FlatPlan.Copy c : plan.copies()) {
            inside(c.to(), c.bytes(), size);
            long done = 0;
            while (done < c.bytes()) {
              long from = c.from() + done;
              if (from < chunkStart || from >= chunkEnd) {
                chunk.clear();
                int n = 0;
                while (chunk.hasRemaining()) {
                  int r = in.read(chunk, from + n);
                  if (r < 0) {
                    break;
                  }
                  n += r;
                }
                if (n == 0) {
                  throw new IOException(finalPages + " ends before offset " + from);
                }
                chunkStart = from;
                chunkEnd = from + n;
              }
              int len = (int) Math.min(c.bytes() - done, chunkEnd - from);
              ByteBuffer slice = chunk.duplicate();
              slice.limit((int) (from - chunkStart) + len).position((int) (from - chunkStart));
              long at = c.to() + done;
              while (slice.hasRemaining()) {
                at += out.write(slice, at);
              }
              done += len;
            }
          }
        }
      }
      ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 16);
      for (FlatPlan.Zero z : plan.zeros()) {
        inside(z.at(), z.bytes(), size);
        long done = 0;
        while (done < z.bytes()) {
          zeros.clear().limit((int) Math.min(zeros.capacity(), z.bytes() - done));
          done += out.write(zeros, z.at() + done);
        }
      }
    }
  }

  private static void inside(long at, long bytes, long size) throws IOException {
    if (at < 0 || bytes < 0 || at + bytes > size) {
      throw new IOException("a write at " + at + " (" + bytes + " bytes) runs past the layout file's " + size + " bytes");
    }
  }

  private static final int CHUNK = 4 << 20;

  /** The parent layer of {@code r}'s pages outside the layout: a pagemap of PE_PRESENT runs, their data from the final dump. */
  private static void writeOutside(Rewrite r, Path finalPages, Path dir) throws IOException {
    List<FlatPlan.Entry> entries = new ArrayList<>();
    try (FileChannel out = FileChannel.open(dir.resolve("pages-" + r.pagesId + ".img"), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      if (!r.plan.outside().isEmpty()) {
        try (FileChannel in = FileChannel.open(finalPages, StandardOpenOption.READ)) {
          for (FlatPlan.Outside o : r.plan.outside()) {
            entries.add(new FlatPlan.Entry(o.vaddr(), o.bytes() / dev.ferry.agent.memory.PageSize.BYTES, FlatPlan.PE_PRESENT));
            long done = 0;
            while (done < o.bytes()) {
              long n = in.transferTo(o.from() + done, o.bytes() - done, out);
              if (n <= 0) {
                throw new IOException(finalPages + " ends before offset " + (o.from() + done));
              }
              done += n;
            }
          }
        }
      }
    }
    writePagemap(dir.resolve("pagemap-" + r.imagePid + ".img"), r.pagesId, entries);
  }

  private static void writePagemap(Path file, int pagesId, List<FlatPlan.Entry> entries) throws IOException {
    List<MessageLite> m = new ArrayList<>(entries.size() + 1);
    m.add(PagemapHead.newBuilder().setPagesId(pagesId).build());
    for (FlatPlan.Entry e : entries) {
      m.add(PagemapEntry.newBuilder().setVaddr(e.vaddr()).setNrPages(Math.toIntExact(e.nrPages())).setFlags(e.flags()).build());
    }
    CriuImageFile.write(file, CriuMagic.PAGEMAP, m);
  }

  /** The first other pagemap image (e.g. shared memory's) with a parent entry, or null. */
  private static String othersTakingFromParent(Path fin, Set<String> replaced) throws IOException {
    try (var files = Files.list(fin)) {
      for (Path f : files.toList()) {
        String n = f.getFileName().toString();
        if (!n.startsWith("pagemap-") || !n.endsWith(".img") || replaced.contains(n)) {
          continue;
        }
        ParentSeen parent = new ParentSeen();
        PagemapScan.forEach(f, parent);
        if (parent.seen) {
          return n;
        }
      }
    }
    return null;
  }

  /**
   * Whether a pagemap has a parent entry. A class, not a lambda, as the few other visitors and
   * callbacks on the downtime's path: a lambda call site is linked (a class spun) the first time it
   * runs, which was interpreted and slow under the lab's emulation.
   */
  private static final class ParentSeen implements PagemapScan.Visitor {
    boolean seen;

    @Override
    public void entry(long vaddr, long nrPages, int flags, boolean inParent) {
      seen |= inParent;
    }
  }

  /** {@code steps} with the steps of one name summed (one per process), in the order first seen. */
  private static RestoreSteps merged(RestoreSteps steps) {
    Map<String, Duration> sums = new java.util.LinkedHashMap<>();
    for (RestoreSteps.Step s : steps.steps()) {
      Duration before = sums.get(s.name());
      sums.put(s.name(), before == null ? s.time() : before.plus(s.time()));
    }
    List<RestoreSteps.Step> out = new ArrayList<>();
    for (Map.Entry<String, Duration> e : sums.entrySet()) {
      out.add(new RestoreSteps.Step(e.getKey(), e.getValue(), RestoreSteps.NONE));
    }
    return new RestoreSteps(out, steps.threadCpu(), steps.jvmCpu());
  }

  private static Fallback fallback(String reason, long t0) {
    return new Fallback(reason, since(t0));
  }

  private static Duration since(long t0) {
    return Duration.ofNanos(System.nanoTime() - t0);
  }
}
