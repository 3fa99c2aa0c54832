package dev.ferry.bench;

import dev.ferry.agent.criu.BackgroundWork;
import dev.ferry.agent.criu.BootClock;
import dev.ferry.agent.criu.Checkpointer;
import dev.ferry.agent.criu.HeldDump;
import dev.ferry.agent.criu.CriuCommand;
import dev.ferry.agent.criu.CriuFailure;
import dev.ferry.agent.criu.CriuProbe;
import dev.ferry.agent.criu.CriuStatus;
import dev.ferry.agent.criu.FlatTop;
import dev.ferry.agent.criu.LazyPages;
import dev.ferry.agent.criu.LocalPrecopy;
import dev.ferry.agent.criu.MigratableLauncher;
import dev.ferry.agent.criu.MinimalParentImages;
import dev.ferry.agent.criu.ParentSnapshot;
import dev.ferry.agent.criu.ProcessTree;
import dev.ferry.agent.criu.Restorer;
import dev.ferry.agent.criu.StoreParent;
import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.PrecopySessions;
import dev.ferry.agent.tracking.TrackerSettings;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.testkit.MemtouchBinary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ferry-bench downtime}: the switch-over's downtime (freeze start to the process running
 * again on the "destination") with soft-dirty pre-copy versus a stop-and-copy baseline (plain
 * criu dump, copy of the images, criu restore) of the same workload, on one kernel (the lab VM:
 * root, soft-dirty, CRIU). Both "agents" live in this JVM; the pre-copy goes through the engine's
 * session into the destination's page store, and the final images are copied as files (the
 * agents' gRPC channel is not measured here). The destination's store keeps its pages laid out by
 * address at each round's commit, and its parent image links to that layout (the agent's path:
 * PageStores mirrored, StoreParent), so nothing is laid out in the downtime. Each mode prints where its downtime went (bench wall times and CRIU's stats). Each run checks that the workload continues on the
 * restored copy with intact memory.
 *
 * <p>usage: DowntimeBench [--sizes 256,1024] [--rate PAGES_PER_S (default {@value #DEFAULT_RATE})] [--max-rounds N]
 * [--memtouch PATH] [--work DIR] [--no-lazy-pages] [--no-flat] [--no-hold] (--no-flat: always restore through
 * the parent layer, never a flat top layer; --no-hold: start criu dump at the checkpoint, not ahead).
 * Last line: key=value figures, comma lists per size.
 */
public final class DowntimeBench {
  /**
   * Pages the workload dirties per second by default: a moderate rate for the lab, where the
   * emulated engine copies ~5-8 k pages/s, so ~3-5 % of the copy rate (the bench prints the share it
   * measured: {@code dirty_pct_of_copy}). Natively the copy runs ~100x faster, so the same share
   * would be ~100 MB/s of writes. The earlier default, 2000, was 25-40 % of the emulated copy rate:
   * the rounds of 256 MiB never converged.
   */
  static final int DEFAULT_RATE = 250;

  private final int rate;
  private final int maxRounds;
  private final Path memtouch;
  private final Path work;
  private final Duration deadline;
  private final ProcessTree processes = new ProcessTree();
  private LazyPages.Support lazy = new LazyPages.Unsupported("not probed");
  /** Whether the pre-copy dump is started ahead and held at its pre-dump point (as the agent does). */
  private boolean hold = true;
  private boolean flatTop = true;

  DowntimeBench(int rate, int maxRounds, Path memtouch, Path work, Duration deadline) {
    this.rate = rate;
    this.maxRounds = maxRounds;
    this.memtouch = memtouch;
    this.work = work;
    this.deadline = deadline;
  }

  /**
   * {@code frozenMs}: CRIU's freeze (seen by the Checkpointer) to resumed, the downtime as issue 6
   * defines it; {@code downtimeMs} starts earlier, at the criu exec (the held dump's release).
   */
  record PrecopyRun(long downtimeMs, long frozenMs, int rounds, long lastRoundPages, long dumpMs, long restoreMs, long pagesWritten,
      long pagesSkippedParent, long finalBytes, DowntimePhases phases, double copyPagesPerSecond) {
    /** The workload's dirty rate as a share of the first round's copy rate, in percent. */
    double dirtyPercentOfCopy(int ratePagesPerSecond) {
      return copyPagesPerSecond <= 0 ? 0 : 100.0 * ratePagesPerSecond / copyPagesPerSecond;
    }
  }

  record BaselineRun(long downtimeMs, long frozenMs, long dumpMs, long copyMs, long restoreMs, long imageBytes, DowntimePhases phases) {}

  public static void main(String[] args) {
    try {
      run(args);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.err.println("downtime bench interrupted");
      System.exit(1);
    } catch (CriuFailure e) {
      System.err.println("downtime bench: " + e.describe());
      System.exit(1);
    } catch (Exception e) {
      System.err.println("downtime bench failed: " + e);
      e.printStackTrace();
      System.exit(1);
    }
  }

  static void run(String[] args) throws Exception {
    List<Integer> sizes = List.of(256, 1024);
    int rate = DEFAULT_RATE;
    int maxRounds = 8;
    String given = System.getenv().getOrDefault("FERRY_MEMTOUCH", "");
    Path memtouch = given.isBlank() ? null : Path.of(given);
    Path work = Path.of("/tmp/ferry-downtime-bench");
    boolean lazyPages = true;
    boolean hold = true;
    boolean flat = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--sizes" -> sizes = parseSizes(args[++i]);
        case "--rate" -> rate = Integer.parseInt(args[++i]);
        case "--max-rounds" -> maxRounds = Integer.parseInt(args[++i]);
        case "--memtouch" -> memtouch = Path.of(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        case "--no-lazy-pages" -> lazyPages = false;
        case "--no-hold" -> hold = false;
        case "--no-flat" -> flat = false;
        default -> {
          System.err.println("usage: ferry-bench downtime [--sizes 256,1024] [--rate PAGES_PER_S] [--max-rounds N] [--memtouch PATH] [--work DIR] [--no-lazy-pages] [--no-flat] [--no-hold]");
          System.exit(64);
        }
      }
    }
    if (memtouch == null) {
      memtouch = MemtouchBinary.locate().executable();
    }
    String scale = System.getenv().getOrDefault("FERRY_DEADLINE_SCALE", "1");
    Duration deadline = Duration.ofMillis((long) (120_000 * Double.parseDouble(scale)));
    CriuStatus criu = new CriuProbe(CriuCommand.onPath(), deadline).probe(); // also warms CRIU's kerndat cache
    if (!criu.usable()) {
      System.err.println("downtime bench needs CRIU and soft-dirty (run it in the lab VM): " + criu.describe());
      System.exit(2);
    }
    DowntimeBench bench = new DowntimeBench(rate, maxRounds, memtouch, work, deadline);
    bench.hold = hold;
    bench.flatTop = flat;
    System.out.println("pre-copy top layer: " + (flat ? "flat where the final dump allows (else the parent, reason printed)" : "parent (--no-flat)"));
    bench.lazy = lazyPages ? LazyPages.probe(CriuCommand.onPath(), deadline) : new LazyPages.Unsupported("--no-lazy-pages");
    System.out.println("pre-copy restore: " + (bench.lazy instanceof LazyPages.Unsupported u
        ? "eager (" + u.reason() + ")" : "final delta's pages lazily (criu lazy-pages)"));
    System.out.println("pre-copy dump: " + (hold ? "criu started after each round, held at its pre-dump script until the checkpoint"
        : "criu started at the checkpoint (--no-hold)"));
    // Downtime as issue 6 defines it: the freeze's start to the process resumed on the destination
    // (CRIU's start-up before the freeze is not downtime: the process runs). The same figures from
    // the criu exec (the held dump's release) are printed too, as from_exec.
    StringBuilder s = new StringBuilder(), pre = new StringBuilder(), stop = new StringBuilder(), ratio = new StringBuilder(), rounds = new StringBuilder();
    StringBuilder preExec = new StringBuilder(), stopExec = new StringBuilder(), execRatio = new StringBuilder();
    StringBuilder top = new StringBuilder(), dirtyPct = new StringBuilder();
    System.out.printf("%-9s %-10s %8s %8s %9s %12s %12s %10s %8s%n", "size_mib", "mode", "rounds", "dump_ms", "restore_ms", "downtime_ms",
        "from_exec_ms", "pages_out", "ratio");
    for (int size : sizes) {
      PrecopyRun p = bench.precopy(size);
      BaselineRun b = bench.baseline(size);
      double r = (double) p.frozenMs() / Math.max(1, b.frozenMs());
      System.out.printf("%-9d %-10s %8d %8d %9d %12d %12d %10d %8s%n", size, "precopy", p.rounds(), p.dumpMs(), p.restoreMs(), p.frozenMs(),
          p.downtimeMs(), p.pagesWritten(), "");
      System.out.printf("%-9d %-10s %8s %8d %9d %12d %12d %10d %8.2f%n", size, "stop-copy", "-", b.dumpMs(), b.restoreMs(), b.frozenMs(),
          b.downtimeMs(), b.imageBytes() / 4096, r);
      System.out.println("          downtime: the freeze to resumed; from_exec: the criu exec (or the held dump's release) to resumed");
      System.out.printf("          precopy: last round %d pages, final dump %d pages written / %d from the parent, %d image bytes%n",
          p.lastRoundPages(), p.pagesWritten(), p.pagesSkippedParent(), p.finalBytes());
      System.out.printf(Locale.ROOT, "          dirty rate %d pages/s = %.1f %% of the first round's copy rate (%.0f pages/s)%n",
          bench.rate, p.dirtyPercentOfCopy(bench.rate), p.copyPagesPerSecond());
      System.out.println("          precopy phases:   " + p.phases().describe());
      System.out.println("          stop-copy phases: " + b.phases().describe());
      System.out.flush();
      String sep = s.length() == 0 ? "" : ",";
      s.append(sep).append(size);
      pre.append(sep).append(p.frozenMs());
      stop.append(sep).append(b.frozenMs());
      ratio.append(sep).append(String.format(Locale.ROOT, "%.2f", r));
      rounds.append(sep).append(p.rounds());
      preExec.append(sep).append(p.downtimeMs());
      stopExec.append(sep).append(b.downtimeMs());
      execRatio.append(sep).append(String.format(Locale.ROOT, "%.2f", (double) p.downtimeMs() / Math.max(1, b.downtimeMs())));
      top.append(sep).append(p.phases().layering().flat() ? "flat" : "parent");
      dirtyPct.append(sep).append(String.format(Locale.ROOT, "%.1f", p.dirtyPercentOfCopy(bench.rate)));
    }
    System.out.println("size_mib=" + s + " precopy_downtime_ms=" + pre + " stop_copy_downtime_ms=" + stop + " ratio=" + ratio + " rounds=" + rounds
        + " precopy_from_exec_ms=" + preExec + " stop_copy_from_exec_ms=" + stopExec + " from_exec_ratio=" + execRatio + " top=" + top
        + " rate_pages_per_s=" + rate + " dirty_pct_of_copy=" + dirtyPct);
  }

  private static List<Integer> parseSizes(String s) {
    List<Integer> out = new ArrayList<>();
    for (String p : s.split(",")) {
      out.add(Integer.parseInt(p.strip()));
    }
    return out;
  }

  private MigratableLauncher.Launched start(int sizeMib, Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path out = dir.resolve("memtouch.out");
    // verify rarely: a full verification of 1 GiB takes seconds under emulation and competes for the CPUs
    MigratableLauncher.Launched l = new MigratableLauncher(deadline).launch(List.of(memtouch.toString(), "--out", out.toString(),
        "--size-mib", Integer.toString(sizeMib), "--rate", Integer.toString(rate), "--verify-ms", "15000"), dir.resolve("launcher.log"));
    awaitOkBeyond(out, 0);
    return l;
  }

  PrecopyRun precopy(int sizeMib) throws Exception {
    Path dir = work.resolve("precopy-" + sizeMib);
    deleteTree(dir);
    MigratableLauncher.Launched w = start(sizeMib, dir.resolve("w"));
    try (w; PageStores stores = new PageStores(dir.resolve("stores"), new PageHashing(), true);
        PrecopySession session = PrecopySessions.open(w.pid(), SoftDirtyProbe.probe(),
            TrackerSettings.defaults().withChoice(TrackerSettings.Choice.SOFT_DIRTY))) {
      PageStore store = stores.openOrCreate("bench").store();
      LocalPrecopy precopy = new LocalPrecopy(session, store);
      long threshold = Math.max(256, sizeMib * 256L / 100); // 1 % of the memory
      LocalPrecopy.Round round;
      long previous = Long.MAX_VALUE;
      int stalls = 0;
      Checkpointer checkpointer = new Checkpointer(CriuCommand.onPath(), new MinimalParentImages(), processes, deadline, List.of());
      HeldDump warm = null; // as the agent's CriuCheckpoints.roundDone: criu started ahead, held before the freeze
      ParentSnapshot writtenAhead = null; // ... and the parent for what the store holds written while it waits
      double copyPagesPerSecond = 0;
      long previousStart = 0;
      do {
        long start = System.nanoTime();
        round = precopy.round();
        // the dirty set of a round is what the workload wrote since the previous capture: the whole
        // cycle (capture, copy, commit, the dump held and the parent written ahead), not the copy
        System.out.printf("          round %d: %d dirty pages, freeze %d ms, copy %d ms, round %d ms, cycle since the last round's start %s%n",
            round.round(), round.dirtyPages(), round.freezeWindow().toMillis(), round.copyTime().toMillis(), round.roundTime().toMillis(),
            previousStart == 0 ? "-" : (start - previousStart) / 1_000_000 + " ms");
        previousStart = start;
        if (round.round() == 1) {
          copyPagesPerSecond = round.dirtyPages() / Math.max(1e-3, round.copyTime().toNanos() / 1e9);
        }
        stalls = round.dirtyPages() >= previous ? stalls + 1 : 0;
        previous = round.dirtyPages();
        if (hold && (warm == null || !warm.alive())) {
          warm = checkpointer.hold(w.pid(), dir.resolve("src"), Duration.ofMinutes(15));
        }
        if (hold) {
          writtenAhead = precopy.held().snapshot(BootClock.uptime());
          checkpointer.writeParent(dir.resolve("src"), writtenAhead);
        }
      } while (round.dirtyPages() > threshold && round.round() < maxRounds && stalls < 2);

      ParentSnapshot held = writtenAhead != null ? writtenAhead : precopy.held().snapshot(BootClock.uptime());
      long mirrorMs = -1; // kept by the store at each commit: part of the rounds' copy times
      // as the agent: the final delta's pages served lazily where CRIU's userfaultfd daemon works
      Restorer restorer = new Restorer(CriuCommand.onPath(), new MinimalParentImages(), processes, deadline, List.of())
          .withLazyPages(lazy).withFlatTop(flatTop);
      Path dst = dir.resolve("dst");
      // the destination's parent is its store's own layout by address, kept current at each
      // round's commit (inside the rounds' copy times above); as the agent's CriuRestores.prepare: the destination links its parent to the store's
      // layout when the final image stream opens, i.e. while the source dumps
      StoreParent parent = new StoreParent(store);
      long t0 = System.nanoTime();
      BackgroundWork<ParentSnapshot> linking = BackgroundWork.start("parent-link", () -> {
        ParentSnapshot linked = parent.link(dst.resolve("parent"), held.dumpUptime());
        FlatTop.warmUp(dst.resolve("flat-warm-up")); // as the agent's CriuRestores.prepare
        return linked;
      });
      Checkpointer.Result cp;
      try {
        cp = checkpointer.checkpoint(w.pid(), dir.resolve("src"), held, warm, writtenAhead != null);
      } catch (CriuFailure e) {
        linking.close();
        throw e;
      } finally {
        if (warm != null) {
          warm.abort(); // a no-op once released
        }
      }
      long t1 = System.nanoTime();
      copyImages(cp.finalDir(), Restorer.finalDir(dst));
      long t2 = System.nanoTime();
      long okBefore = lastOk(dir.resolve("w/memtouch.out"));
      Restorer.Result r;
      long t3;
      Duration checked;
      try {
        // as the agent's CriuRestores: await the link, then restore with the parent check alongside
        ParentSnapshot inStore = linking.await();
        t3 = System.nanoTime();
        Restorer.Checked c = restorer.restoreChecked(dst, inStore, parent, "parent-check");
        r = c.result();
        checked = c.checkTime();
      } catch (CriuFailure e) {
        checkpointer.resume(cp.dumped());
        throw e;
      }
      long t4 = System.nanoTime();
      restorer.resume(r.restored());
      long t5 = System.nanoTime();
      Instant resumed = Instant.now();
      long downtime = (t5 - t0) / 1_000_000;
      long frozen = Duration.between(cp.freezeStarted(), resumed).toMillis();
      DowntimePhases phases = new DowntimePhases(mirrorMs, false, DowntimePhases.ms(t0, t1), DowntimePhases.ms(t1, t2),
          DowntimePhases.ms(t2, t3), r.parentLayoutTime().toMillis(), r.restoreTime().toMillis(), DowntimePhases.ms(t4, t5),
          cp.stats(), DowntimePhases.restoreStats(r.imagesDir()), cp.parentImages().toMillis(),
          cp.beforeFreeze().toMillis(), checked.toMillis(), DowntimePhases.ms(t3, t4), r.layering(), r.daemonStart().toMillis());
      checkpointer.kill(cp.dumped());
      try {
        awaitOkBeyond(dir.resolve("w/memtouch.out"), okBefore);
        if (r.lazyPages().isPresent() && !r.lazyPages().get().awaitServed(deadline)) {
          throw new IllegalStateException("criu lazy-pages did not serve every page: " + r.lazyPages().get().logTail());
        }
      } finally {
        processes.kill(r.restored());
        r.lazyPages().ifPresent(LazyPages.Daemon::close);
      }
      return new PrecopyRun(downtime, frozen, round.round(), round.dirtyPages(), cp.dumpTime().toMillis(), r.restoreTime().toMillis(),
          cp.stats().pagesWritten(), cp.stats().pagesSkippedParent(), cp.finalImageBytes(), phases, copyPagesPerSecond);
    } finally {
      deleteTree(dir);
    }
  }

  BaselineRun baseline(int sizeMib) throws Exception {
    Path dir = work.resolve("stopcopy-" + sizeMib);
    deleteTree(dir);
    MigratableLauncher.Launched w = start(sizeMib, dir.resolve("w"));
    try (w) {
      Checkpointer checkpointer = new Checkpointer(CriuCommand.onPath(), new MinimalParentImages(), processes, deadline, List.of());
      Restorer restorer = new Restorer(CriuCommand.onPath(), new MinimalParentImages(), processes, deadline, List.of());
      Path dst = dir.resolve("dst");
      long t0 = System.nanoTime();
      Checkpointer.Result cp = checkpointer.dumpFull(w.pid(), dir.resolve("src"));
      long t1 = System.nanoTime();
      copyImages(cp.finalDir(), Restorer.finalDir(dst));
      long t2 = System.nanoTime();
      long okBefore = lastOk(dir.resolve("w/memtouch.out"));
      Restorer.Result r;
      try {
        r = restorer.restoreFull(dst);
      } catch (CriuFailure e) {
        checkpointer.resume(cp.dumped());
        throw e;
      }
      long t3a = System.nanoTime();
      restorer.resume(r.restored());
      long t3 = System.nanoTime();
      long frozen = Duration.between(cp.freezeStarted(), Instant.now()).toMillis();
      DowntimePhases phases = new DowntimePhases(0, false, DowntimePhases.ms(t0, t1), DowntimePhases.ms(t1, t2), 0,
          r.parentLayoutTime().toMillis(), r.restoreTime().toMillis(), DowntimePhases.ms(t3a, t3), cp.stats(),
          DowntimePhases.restoreStats(Restorer.finalDir(dst)), 0, cp.beforeFreeze().toMillis(), -1, DowntimePhases.ms(t2, t3a), null, 0);
      checkpointer.kill(cp.dumped());
      try {
        awaitOkBeyond(dir.resolve("w/memtouch.out"), okBefore);
      } finally {
        processes.kill(r.restored());
      }
      return new BaselineRun((t3 - t0) / 1_000_000, frozen, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
          r.restoreTime().toMillis(), cp.finalImageBytes(), phases);
    } finally {
      deleteTree(dir);
    }
  }

  /** Stands for the PushImages stream between the agents. */
  private static void copyImages(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Checkpointer.travels(f)) {
          Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static long lastOk(Path out) throws IOException {
    long last = 0;
    for (String line : Files.readAllLines(out)) {
      if (line.startsWith("CORRUPT")) {
        throw new IllegalStateException("ferry-memtouch reported corrupted memory: " + line);
      }
      if (line.startsWith("OK ")) {
        for (String kv : line.split(" ")) {
          if (kv.startsWith("counter=")) {
            last = Long.parseLong(kv.substring(8));
          }
        }
      }
    }
    return last;
  }

  private void awaitOkBeyond(Path out, long counter) throws IOException, InterruptedException {
    long end = System.nanoTime() + deadline.toNanos();
    while (!Files.exists(out) || lastOk(out) <= counter) {
      if (System.nanoTime() > end) {
        throw new IllegalStateException("ferry-memtouch wrote no OK line beyond " + counter + " within " + deadline + " (" + out + ")");
      }
      Thread.sleep(50); // polling the workload's output file (it is a separate process)
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
