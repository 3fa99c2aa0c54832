package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Destination side of the switch-over, in a migration's work dir:
 * <pre>
 *   workDir/parent/   pages-N.img (from the store, {@link #prepareParent}), pagemaps + inventory
 *   workDir/final/    the source's final images, with parent -> ../parent
 * </pre>
 * then {@code criu restore -D final --restore-detached --leave-stopped --pidfile ...}. The
 * restored tree stays stopped until {@link #resume} (after the commit) or {@link #discard}
 * (rollback). In a pid namespace the restored init gets a new outer pid: the reported one.
 */
public final class Restorer {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Restorer.class);
  private final CriuCommand criu;
  private final ParentImages parentImages;
  private final ProcessTree processes;
  private final Duration deadline;
  private final List<String> extraArgs;
  private final boolean lazyPages;
  private final boolean flatTop;
  private final boolean restoreAhead;

  public Restorer(CriuCommand criu, ParentImages parentImages, ProcessTree processes, Duration deadline, List<String> extraArgs) {
    this(criu, parentImages, processes, deadline, extraArgs, false, true, false);
  }

  private Restorer(CriuCommand criu, ParentImages parentImages, ProcessTree processes, Duration deadline, List<String> extraArgs,
      boolean lazyPages, boolean flatTop, boolean restoreAhead) {
    this.criu = criu;
    this.parentImages = parentImages;
    this.processes = processes;
    this.deadline = deadline;
    this.extraArgs = List.copyOf(extraArgs);
    this.lazyPages = lazyPages;
    this.flatTop = flatTop;
    this.restoreAhead = restoreAhead;
  }

  /**
   * This restorer with ({@code true}, the default) or without a {@link FlatTop} tried first by
   * {@link #restoreChecked}; without, it always restores through the parent.
   */
  public Restorer withFlatTop(boolean on) {
    return new Restorer(criu, parentImages, processes, deadline, extraArgs, lazyPages, on, restoreAhead);
  }

  /**
   * This restorer with ({@code true}) or without (the default) {@code criu restore} started ahead
   * of a flat restore, while the layer is built, and held at its pre-restore script
   * ({@link HeldRestore}). Off by default: in the lab (2 emulated vCPUs, 01.12 02:50) it saved
   * nothing (one run, host load ~9): CRIU runs every action script as a fork and an exec of sh
   * (pre-restore, post-restore, pre-resume, post-resume), each after the release on the critical
   * path, and the lazy-pages daemon it must connect to first was not listening before the build
   * ended anyway (ahead wait 1.3 s), so CRIU started no earlier than without the hold.
   */
  public Restorer withRestoreAhead(boolean on) {
    return new Restorer(criu, parentImages, processes, deadline, extraArgs, lazyPages, flatTop, on);
  }

  /**
   * This restorer with {@link LazyPages} for incremental restores ({@link #restore}) when
   * {@code support} says so; a full restore ({@link #restoreFull}) stays eager.
   */
  public Restorer withLazyPages(LazyPages.Support support) {
    return new Restorer(criu, parentImages, processes, deadline, extraArgs, support instanceof LazyPages.Supported, flatTop,
        restoreAhead);
  }

  /** Whether incremental restores use lazy pages. */
  public boolean lazyPages() {
    return lazyPages;
  }

  /**
   * What a restore produced: the restored (stopped) root, by its pid on this host, and with lazy
   * pages the daemon still serving its pages (the caller owns it: see {@link LazyPages});
   * {@code daemonStart}: the daemon's start until it listened (inside {@code restoreTime}).
   */
  public record Result(ProcessTree.Identity restored, Duration parentLayoutTime, Duration restoreTime,
      Optional<LazyPages.Daemon> lazyPages, Layering layering, Duration daemonStart) {
    /** The image dir CRIU restored from (its restore.log and stats-restore are there). */
    public Path imagesDir() {
      return layering.imagesDir();
    }

    /** Where the restore's time went (in {@link Layering#steps}). */
    public RestoreSteps steps() {
      return layering == null ? RestoreSteps.NONE : layering.steps();
    }

    Result withSteps(RestoreSteps s) {
      return new Result(restored, parentLayoutTime, restoreTime, lazyPages, layering.withSteps(s), daemonStart);
    }
  }

  /**
   * Which top layer a restore used: {@code flat} ({@link FlatTop}, {@code detail} its figures) or
   * the final dump over its parent ({@code detail}: why not flat, or "full dump"); {@code buildTime}
   * is the flat layer's build (or the attempt's) in the downtime; {@code steps}: where the whole
   * restore's time went on the restoring thread ({@link RestoreSteps#NONE} until it is done).
   */
  public record Layering(boolean flat, String detail, Duration buildTime, Path imagesDir, RestoreSteps steps) {
    public Layering(boolean flat, String detail, Duration buildTime, Path imagesDir) {
      this(flat, detail, buildTime, imagesDir, RestoreSteps.NONE);
    }

    public String describe() {
      return flat ? "flat top layer (" + detail + ")" : "parent layer (" + detail + ")";
    }

    Layering withSteps(RestoreSteps s) {
      return new Layering(flat, detail, buildTime, imagesDir, s);
    }
  }

  /** Where CRIU writes the restored pid (a restarted agent finds an orphaned copy by it). */
  public static final String PID_FILE = "restored.pid";

  /** Where the final images must be put before {@link #restore}. */
  public static Path finalDir(Path workDir) {
    return workDir.resolve("final");
  }

  /**
   * Writes the page data of the parent from the store. The bulk of the destination's work: call it
   * once the last pre-copy round is acknowledged, while the source dumps, not after.
   */
  public Duration prepareParent(Path workDir, ParentSnapshot held, ParentImages.PageSource store) throws CriuFailure {
    long t0 = System.nanoTime();
    try {
      parentImages.writePages(workDir.resolve("parent"), held, store);
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot lay out the parent pages in " + workDir + ": " + e.getMessage(), e);
    }
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /**
   * Completes parent/ (pagemaps named after the image pids the source sent in final/) and
   * restores. {@code held} must list the processes in the order {@link #prepareParent} got them.
   */
  public Result restore(Path workDir, ParentSnapshot held) throws CriuFailure, InterruptedException {
    RestoreSteps.Clock clock = RestoreSteps.start();
    Result r = restore(workDir, held, clock);
    return r.withSteps(clock.done());
  }

  private Result restore(Path workDir, ParentSnapshot held, RestoreSteps.Clock clock) throws CriuFailure, InterruptedException {
    Path parent = workDir.resolve("parent");
    Path fin = finalDir(workDir);
    Path pidFile = workDir.resolve(PID_FILE);
    long t0 = System.nanoTime();
    try {
      ImagePids pids = ImagePids.read(fin);
      List<ParentSnapshot.Process> named = new ArrayList<>();
      for (ParentSnapshot.Process p : held.processes()) {
        named.add(new ParentSnapshot.Process(p.pid(), pids.imagePid(p.pid()), p.runs()));
      }
      parentImages.writePagemaps(parent, new ParentSnapshot(held.dumpUptime(), named));
      Path link = fin.resolve("parent");
      Files.deleteIfExists(link);
      Files.createSymbolicLink(link, Path.of("..", "parent"));
      Files.deleteIfExists(pidFile);
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot lay out " + workDir + " for the restore: " + e.getMessage(), e);
    }
    clock.lap("layout");
    return run(fin, pidFile, Duration.ofNanos(System.nanoTime() - t0), lazyPages,
        new Layering(false, "final dump over its parent", Duration.ZERO, fin), clock);
  }

  /** A {@link #restoreChecked} result: the restore's, and how long the parent check took alongside it. */
  public record Checked(Result result, Duration checkTime) {}

  /**
   * {@link #restore}, with {@code parent.checkFinal} (every page the final dump takes from the
   * parent is held by the store) running alongside CRIU rather than before it: off the downtime's
   * critical path, while the restored copy is still stopped. Returns only once both are done; a
   * failed (or interrupted) check kills the stopped copy and closes its lazy-pages daemon, so
   * nothing unchecked is ever left to resume.
   */
  public Checked restoreChecked(Path workDir, ParentSnapshot held, StoreParent parent, String name)
      throws CriuFailure, InterruptedException {
    Path fin = finalDir(workDir);
    RestoreSteps.Clock clock = RestoreSteps.start();
    try (BackgroundWork<Void> check = BackgroundWork.start(name, new BackgroundWork.Work<Void>() { // not a lambda: FlatTop.ParentSeen
      @Override
      public Void run() throws CriuFailure {
        parent.checkFinal(fin);
        return null;
      }
    })) {
      clock.lap("check start");
      Result r = flatTop ? restoreFlatOrParent(workDir, held, parent, clock) : restore(workDir, held, clock);
      try {
        check.await();
        clock.lap("check wait");
        return new Checked(r.withSteps(clock.done()), check.elapsed());
      } catch (CriuFailure | InterruptedException f) {
        kill(r.restored());
        r.lazyPages().ifPresent(LazyPages.Daemon::close);
        throw f;
      }
    }
  }

  /**
   * Restores from a {@link FlatTop} when the final dump and the store's layout allow it, else (the
   * reason logged and kept in {@link Result#layering}) through the parent as {@link #restore}.
   * The parent check runs alongside either way (the caller's): a page the final dump takes from the
   * parent that the store does not hold is DATA_LOSS in both.
   */
  private Result restoreFlatOrParent(Path workDir, ParentSnapshot held, StoreParent parent, RestoreSteps.Clock clock)
      throws CriuFailure, InterruptedException {
    // Started ahead, in flat/ while the flat layer is built, off this path: the lazy-pages daemon
    // (it reads pstree.img and the like when it starts, criu/uffd.c cr_lazy_pages; the pagemaps
    // only when the restore hands it the tasks) and then criu restore itself, held at its
    // pre-restore script (HeldRestore: it reads no pagemap or pages image before the release).
    Path pidFile = workDir.resolve(PID_FILE);
    Optional<BackgroundWork<RestoreAhead>> ahead = Optional.empty();
    if ((lazyPages || restoreAhead) && FlatTop.prepareDir(workDir)) {
      Path flatDir = workDir.resolve(FlatTop.DIR);
      try {
        Files.deleteIfExists(pidFile); // before a restore that writes it is started
        ahead = Optional.of(RestoreAhead.start(criu, flatDir, workDir, lazyPages,
            restoreAhead ? Optional.of(restoreArgs(flatDir, pidFile, lazyPages)) : Optional.empty(), deadline));
      } catch (IOException e) {
        log.warn("cannot start the restore ahead in {}: {}", flatDir, e.toString());
      }
    }
    clock.lap("prepare");
    FlatTop.Outcome o = FlatTop.build(workDir, parent.store(), lazyPages, ahead.isPresent());
    clock.lap("build", o instanceof FlatTop.Built b ? b.steps() : RestoreSteps.NONE);
    if (o instanceof FlatTop.Built b) {
      try {
        Files.deleteIfExists(pidFile);
      } catch (IOException e) {
        ahead.ifPresent(RestoreAhead::abandon);
        throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot prepare " + workDir + " for the restore: " + e.getMessage(), e);
      }
      String figures = b.pages() + " pages, " + b.lazyPages() + " lazy, " + b.copiedPages() + " copied from the final dump, "
          + b.zeroedPages() + " zeroed, " + b.parentPages() + " outside the layout in a parent layer, built in " + b.time().toMillis() + " ms";
      log.info("restoring {} from a flat top layer: {}", workDir, figures);
      Layering layering = new Layering(true, figures, b.time(), b.dir());
      if (ahead.isEmpty()) {
        return run(b.dir(), pidFile, b.time(), lazyPages, layering, clock);
      }
      long t0 = System.nanoTime();
      RestoreAhead a;
      try {
        a = ahead.get().await();
      } catch (CriuFailure f) { // starting ahead is an optimisation: start now, on the complete layer
        log.warn("criu lazy-pages started ahead in {} failed ({}); starting it again on the built layer", b.dir(), f.describe());
        return run(b.dir(), pidFile, b.time(), lazyPages, layering, clock);
      }
      clock.lap("ahead wait");
      Duration waited = Duration.ofNanos(System.nanoTime() - t0);
      if (a.restore().isPresent()) {
        HeldRestore h = a.restore().get();
        if (h.alive()) {
          try {
            h.release();
          } catch (IOException e) {
            h.close();
            a.daemon().ifPresent(LazyPages.Daemon::close);
            throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot release the restore held in " + b.dir() + ": " + e.getMessage(), e);
          }
          clock.lap("release");
          try {
            CriuCommand.Run run = h.await(criu, deadline);
            clock.lap("criu");
            Result r = finish(run, b.dir(), pidFile, b.time(), a.daemon(), clock);
            return new Result(r.restored(), r.parentLayoutTime(), Duration.ofNanos(System.nanoTime() - t0), a.daemon(), layering, waited);
          } catch (CriuFailure | InterruptedException | RuntimeException e) {
            a.daemon().ifPresent(LazyPages.Daemon::close);
            throw e;
          }
        }
        // it exited before its hold: nothing was restored; a fresh daemon and restore on the built layer
        log.warn("criu restore started ahead in {} exited {} before its pre-restore hold; restoring afresh: {}", b.dir(),
            h.exitCode(), h.logTail());
        a.daemon().ifPresent(LazyPages.Daemon::close);
        return run(b.dir(), pidFile, b.time(), lazyPages, layering, clock);
      }
      return runWith(b.dir(), pidFile, b.time(), a.daemon(), layering, t0, waited, clock);
    }
    ahead.ifPresent(RestoreAhead::abandon);
    FlatTop.Fallback f = (FlatTop.Fallback) o;
    log.info("restoring {} through the parent layer, not flat: {}", workDir, f.reason());
    Result r = restore(workDir, held, clock);
    return new Result(r.restored(), r.parentLayoutTime().plus(f.time()), r.restoreTime(), r.lazyPages(),
        new Layering(false, "fallback: " + f.reason(), f.time(), finalDir(workDir)), r.daemonStart());
  }

  /** Restores a full dump (no parent) from {@code workDir/final}: see {@link Checkpointer#dumpFull}. */
  public Result restoreFull(Path workDir) throws CriuFailure, InterruptedException {
    Path fin = finalDir(workDir);
    Path pidFile = workDir.resolve(PID_FILE);
    try {
      Files.deleteIfExists(pidFile);
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot prepare " + workDir + " for the restore: " + e.getMessage(), e);
    }
    RestoreSteps.Clock clock = RestoreSteps.start();
    clock.lap("prepare");
    Result r = run(fin, pidFile, Duration.ZERO, false, new Layering(false, "full dump, no parent", Duration.ZERO, fin), clock);
    return r.withSteps(clock.done());
  }

  private Result run(Path fin, Path pidFile, Duration layout, boolean lazy, Layering layering, RestoreSteps.Clock clock)
      throws CriuFailure, InterruptedException {
    long t0 = System.nanoTime();
    Optional<LazyPages.Daemon> daemon = Optional.empty();
    if (lazy) {
      daemon = Optional.of(LazyPages.Daemon.start(criu, fin, deadline));
      clock.lap("daemon start");
    }
    return runWith(fin, pidFile, layout, daemon, layering, t0, Duration.ofNanos(System.nanoTime() - t0), clock);
  }

  /** {@link #run} with the daemon (if any) already listening; {@code daemonStart}: what its start cost on this path. */
  private Result runWith(Path fin, Path pidFile, Duration layout, Optional<LazyPages.Daemon> daemon, Layering layering, long t0,
      Duration daemonStart, RestoreSteps.Clock clock) throws CriuFailure, InterruptedException {
    try {
      Result r = runCriu(fin, pidFile, layout, daemon, clock);
      return new Result(r.restored(), r.parentLayoutTime(), Duration.ofNanos(System.nanoTime() - t0), daemon, layering, daemonStart);
    } catch (CriuFailure | InterruptedException | RuntimeException e) {
      daemon.ifPresent(LazyPages.Daemon::close);
      throw e;
    }
  }

  private Result runCriu(Path fin, Path pidFile, Duration layout, Optional<LazyPages.Daemon> daemon, RestoreSteps.Clock clock)
      throws CriuFailure, InterruptedException {
    CriuCommand.Run run = criu.run(restoreArgs(fin, pidFile, daemon.isPresent()), fin, "restore", deadline);
    clock.lap("criu");
    return finish(run, fin, pidFile, layout, daemon, clock);
  }

  /** The arguments of {@code criu restore} from {@code fin}. */
  private List<String> restoreArgs(Path fin, Path pidFile, boolean lazy) {
    List<String> args = new ArrayList<>(List.of(
        "restore", "-D", fin.toString(), "--restore-detached", "--leave-stopped",
        "--pidfile", pidFile.toAbsolutePath().toString(), "-v" + criu.logLevel(), "-o", "restore.log"));
    if (lazy) {
      args.add("--lazy-pages");
    }
    args.addAll(extraArgs);
    return args;
  }

  /** What a finished {@code criu restore} left: the restored (stopped) root, or a CriuFailure. */
  private Result finish(CriuCommand.Run run, Path fin, Path pidFile, Duration layout, Optional<LazyPages.Daemon> daemon,
      RestoreSteps.Clock clock) throws CriuFailure {
    if (run.exitCode() != 0) {
      throw new CriuFailure(CriuFailure.Reason.FAILED, "criu restore" + (daemon.isPresent() ? " --lazy-pages" : "") + " in " + fin
          + " exited " + run.exitCode(), CriuCommand.tail(fin.resolve("restore.log")));
    }
    int pid;
    try {
      pid = Integer.parseInt(Files.readString(pidFile).strip());
    } catch (IOException | NumberFormatException e) {
      throw new CriuFailure(CriuFailure.Reason.BAD_OUTPUT, "criu restore succeeded but left no readable pid file " + pidFile, "");
    }
    Optional<ProcessTree.Identity> id = processes.identify(pid);
    if (id.isEmpty()) {
      throw new CriuFailure(CriuFailure.Reason.BAD_OUTPUT, "restored pid " + pid + " is gone right after the restore",
          CriuCommand.tail(fin.resolve("restore.log")));
    }
    if (daemon.isPresent() && !daemon.get().running() && daemon.get().exitCode() != 0) {
      processes.kill(id.get());
      throw new CriuFailure(CriuFailure.Reason.FAILED, "criu lazy-pages exited " + daemon.get().exitCode()
          + " during the restore; the restored copy is killed", daemon.get().logTail());
    }
    clock.lap("pid");
    return new Result(id.get(), layout, run.elapsed(), Optional.empty(), null, Duration.ZERO);
  }

  /** After the commit: resume the restored tree. Idempotent. */
  public boolean resume(ProcessTree.Identity restored) {
    return processes.resume(restored) > 0;
  }

  /** Rollback: kill the restored (stopped) copy. Idempotent; false if it was already gone. */
  public boolean kill(ProcessTree.Identity restored) {
    return processes.kill(restored);
  }

  /** Whether the restored process still runs (is the one restored, not a reused pid). */
  public boolean alive(ProcessTree.Identity restored) {
    return processes.alive(restored);
  }

  /** Rollback: kill the restored (stopped) copy if any and delete the work dir. Idempotent. */
  public void discard(Optional<ProcessTree.Identity> restored, Path workDir) throws IOException {
    restored.ifPresent(processes::kill);
    deleteTree(workDir);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        Files.delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
