package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Source side of the switch-over: writes the parent image dir for what the destination holds and
 * runs {@code criu dump -t PID -D final --track-mem --prev-images-dir ../parent --leave-stopped}.
 *
 * <p>Must run right after the last pre-copy round's capture: CRIU dumps the pages soft-dirty since
 * the agent's last clear_refs, so nothing else may clear soft-dirty in between, and every page
 * written in the gap makes the final dump bigger.
 *
 * <p>Invariant: on any failure the process tree is resumed (SIGCONT) before the failure is
 * reported; it is never left frozen. On success it stays stopped until {@link #resume} (rollback)
 * or {@link #kill} (after the commit).
 *
 * <p>Note for the tracker: {@code --track-mem} makes CRIU clear soft-dirty itself after the dump.
 * After a rollback the pages CRIU dumped are clean but the destination does not hold them, so
 * tracking must restart with a full round.
 */
public final class Checkpointer {
  private final CriuCommand criu;
  private final ParentImages parentImages;
  private final ProcessTree processes;
  private final Duration deadline;
  private final List<String> extraArgs;
  /** How often the freeze is looked for during a dump: the downtime's start is this exact. */
  private static final Duration FREEZE_POLL = Duration.ofMillis(2);

  /**
   * @param deadline how long criu dump may take (scale it in the emulated lab)
   * @param extraArgs site flags for criu dump (e.g. --ext-unix-sk); never --shell-job: a
   *     migratable process has its own session
   */
  public Checkpointer(CriuCommand criu, ParentImages parentImages, ProcessTree processes, Duration deadline, List<String> extraArgs) {
    this.criu = criu;
    this.parentImages = parentImages;
    this.processes = processes;
    this.deadline = deadline;
    this.extraArgs = List.copyOf(extraArgs);
  }

  /**
   * What a successful checkpoint produced. {@code finalDir} holds the images to send.
   *
   * @param freezeStarted when CRIU froze the process (seen by a {@link FreezeWatch}), or when
   *     criu was started if the freeze was not seen: the downtime starts here
   * @param dumpTime criu dump wall time, exec (or a held dump's release) to exit
   * @param beforeFreeze criu exec to the freeze: CRIU's start-up, while the process still runs
   *     (not downtime, but every page written in it is in the final dump)
   * @param parentImages writing the source's parent image dir before criu runs (zero for a full dump)
   */
  public record Result(
      ProcessTree.Identity dumped,
      Instant freezeStarted,
      Duration dumpTime,
      Path finalDir,
      long finalImageBytes,
      DumpStats stats,
      String detail,
      Duration beforeFreeze,
      Duration parentImages) {
    public boolean parentUsed() {
      return stats.parentUsed();
    }
  }

  /**
   * Checkpoints the tree rooted at {@code pid} into {@code workDir/final} with {@code
   * workDir/parent} describing {@code held}. {@code workDir} must not hold an earlier attempt.
   */
  public Result checkpoint(int pid, Path workDir, ParentSnapshot held) throws CriuFailure, InterruptedException {
    return checkpoint(pid, workDir, held, null);
  }

  /**
   * As {@link #checkpoint(int, Path, ParentSnapshot)}, releasing {@code warm} (a {@link #hold} of
   * the same pid in the same work dir) when it still waits: CRIU's start-up is then behind it and
   * the freeze follows the release closely. A warm dump that gave up is aborted and a fresh criu
   * runs, as without one.
   */
  public Result checkpoint(int pid, Path workDir, ParentSnapshot held, HeldDump warm) throws CriuFailure, InterruptedException {
    return checkpoint(pid, workDir, held, warm, false);
  }

  /**
   * As {@link #checkpoint(int, Path, ParentSnapshot, HeldDump)}; {@code parentWritten}: {@link
   * #writeParent} already wrote {@code held} into the held dump's work dir (ahead, after the last
   * round), so nothing is written between the checkpoint and the release. Ignored (written now)
   * when the held dump is not used.
   */
  public Result checkpoint(int pid, Path workDir, ParentSnapshot held, HeldDump warm, boolean parentWritten)
      throws CriuFailure, InterruptedException {
    ProcessTree.Identity root = processes.identify(pid)
        .orElseThrow(() -> new CriuFailure(CriuFailure.Reason.FAILED, "no process " + pid + " to checkpoint", ""));
    boolean useWarm = warm != null && warm.pid() == pid && warm.workDir().equals(workDir) && warm.alive();
    if (warm != null && !useWarm) {
      warm.abort();
    }
    long t0 = System.nanoTime();
    if (warm != null && !useWarm && warm.workDir().equals(workDir)) {
      try {
        Restorer.deleteTree(workDir); // what the held dump that gave up left
      } catch (IOException e) {
        throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot clear " + workDir + " for the checkpoint: " + e.getMessage(), e);
      }
    }
    if (!(useWarm && parentWritten)) {
      try {
        writeParent(workDir, held);
      } catch (CriuFailure e) {
        if (useWarm) {
          warm.abort();
        }
        throw e;
      }
    }
    Duration parentTime = Duration.ofNanos(System.nanoTime() - t0);
    if (useWarm) {
      return released(root, warm, parentTime);
    }
    return dump(root, workDir.resolve("final"), dumpArgs(), parentTime);
  }

  /**
   * Writes {@code workDir/parent} (inventory and pagemaps describing {@code held}, no page data)
   * and the image pids into {@code workDir/final}, replacing what an earlier call wrote. Safe while
   * a {@link #hold} of that work dir waits: CRIU reads them only after its release. Why ahead:
   * written at the checkpoint they cost the lab ~350 ms (cold code under emulation) between the
   * last round and the freeze, and every page the process wrote meanwhile went into the final dump.
   */
  public void writeParent(Path workDir, ParentSnapshot held) throws CriuFailure {
    Path parent = workDir.resolve("parent");
    Path fin = workDir.resolve("final");
    try {
      Files.createDirectories(fin);
      if (Files.isDirectory(parent)) {
        try (Stream<Path> old = Files.list(parent)) { // a pid that left the tree must not keep a pagemap
          for (Path f : (Iterable<Path>) old::iterator) {
            Files.delete(f);
          }
        }
      }
      parentImages.writePagemaps(parent, held);
      Map<Integer, Integer> pids = new LinkedHashMap<>();
      held.processes().forEach(p -> pids.put(p.pid(), p.imagePid()));
      new ImagePids(pids).write(fin);
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot write the parent images in " + parent + ": " + e.getMessage(), e);
    }
  }

  /** What an incremental dump adds to {@code dump -t PID -D final} (see {@link #dump}). */
  private List<String> dumpArgs() {
    return new ArrayList<>(List.of("--track-mem", "--prev-images-dir", "../parent"));
  }

  /**
   * Starts the incremental dump of {@code pid} into {@code workDir/final} now, held before it
   * touches the process until {@link #checkpoint(int, Path, ParentSnapshot, HeldDump)} releases it
   * (or {@link HeldDump#abort}). The work dir is emptied. {@code maxHold}: when the hold gives up.
   */
  public HeldDump hold(int pid, Path workDir, Duration maxHold) throws CriuFailure {
    List<String> args = dumpArgs();
    args.addAll(commonArgs());
    return HeldDump.start(criu, pid, workDir, args, maxHold);
  }

  private List<String> commonArgs() {
    List<String> args = new ArrayList<>(List.of("--leave-stopped", "-v" + criu.logLevel(), "-o", "dump.log"));
    args.addAll(extraArgs);
    return args;
  }

  /** Releases a held dump and finishes it as {@link #dump} does (freeze watched from the release). */
  private Result released(ProcessTree.Identity root, HeldDump warm, Duration parentTime) throws CriuFailure, InterruptedException {
    int pid = root.pid();
    Path fin = warm.finalDir();
    Instant releasedAt = Instant.now();
    Watched w = watched(root, fin, () -> {
      try {
        warm.release();
      } catch (IOException e) {
        warm.abort();
        throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot release the held criu dump in " + warm.workDir() + ": "
            + e.getMessage() + "; process " + pid + " not touched", e);
      }
      return warm.await(criu, deadline);
    });
    return finish(root, fin, w.run(), w.frozen(), releasedAt, false, parentTime);
  }

  /**
   * A plain stop-and-copy dump of the whole tree into {@code workDir/final} (no parent, no
   * soft-dirty): the fallback where soft-dirty is missing and the baseline of the downtime
   * benchmark. Same failure contract as {@link #checkpoint}.
   */
  public Result dumpFull(int pid, Path workDir) throws CriuFailure, InterruptedException {
    ProcessTree.Identity root = processes.identify(pid)
        .orElseThrow(() -> new CriuFailure(CriuFailure.Reason.FAILED, "no process " + pid + " to checkpoint", ""));
    Path fin = workDir.resolve("final");
    try {
      Files.createDirectories(fin);
      int imagePid = ProcessTree.innermostPid(pid).orElse(pid);
      new ImagePids(Map.of(pid, imagePid)).write(fin);
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot prepare " + fin + ": " + e.getMessage(), e);
    }
    return dump(root, fin, new ArrayList<>(), Duration.ZERO);
  }

  private Result dump(ProcessTree.Identity root, Path fin, List<String> modeArgs, Duration parentTime)
      throws CriuFailure, InterruptedException {
    int pid = root.pid();
    List<String> args = new ArrayList<>(List.of("dump", "-t", Integer.toString(pid), "-D", fin.toString()));
    args.addAll(modeArgs);
    args.addAll(commonArgs());
    Instant criuStarted = Instant.now();
    Watched w = watched(root, fin, () -> criu.run(args, fin, "dump", deadline));
    return finish(root, fin, w.run(), w.frozen(), criuStarted, modeArgs.isEmpty(), parentTime);
  }

  /** A criu dump's run: started here, or a held one released. */
  private interface DumpRun {
    CriuCommand.Run run() throws CriuFailure, InterruptedException;
  }

  private record Watched(CriuCommand.Run run, Optional<Instant> frozen) {}

  /** Runs {@code dump} with the freeze watched; if it fails or is interrupted, the tree is resumed first. */
  private Watched watched(ProcessTree.Identity root, Path fin, DumpRun dump) throws CriuFailure, InterruptedException {
    int pid = root.pid();
    try (FreezeWatch watch = FreezeWatch.start(pid, FREEZE_POLL, processes::state)) {
      CriuCommand.Run run = dump.run();
      return new Watched(run, watch.frozenAt());
    } catch (CriuFailure e) {
      processes.resume(root);
      throw new CriuFailure(e.reason(), e.getMessage() + "; process " + pid + " resumed",
          e.logTail().isEmpty() ? CriuCommand.tail(fin.resolve("dump.log")) : e.logTail());
    } catch (InterruptedException e) {
      processes.resume(root);
      throw e;
    }
  }

  /** After criu exited: its verdict, stats and images; on any failure the tree is resumed. */
  private Result finish(ProcessTree.Identity root, Path fin, CriuCommand.Run run, Optional<Instant> frozen, Instant criuStarted,
      boolean full, Duration parentTime) throws CriuFailure {
    // a held dump's run counts from its start, minutes before: its dump time is from the release
    Duration sinceStart = Duration.between(criuStarted, Instant.now());
    Duration dumpTime = sinceStart.compareTo(run.elapsed()) < 0 ? sinceStart : run.elapsed();
    int pid = root.pid();
    if (run.exitCode() != 0) {
      processes.resume(root);
      throw new CriuFailure(CriuFailure.Reason.FAILED,
          "criu dump of pid " + pid + " exited " + run.exitCode() + "; process resumed", CriuCommand.tail(fin.resolve("dump.log")));
    }
    DumpStats stats;
    long bytes;
    try {
      stats = DumpStats.read(fin);
      bytes = imageBytes(fin);
    } catch (IOException e) {
      processes.resume(root);
      throw new CriuFailure(CriuFailure.Reason.BAD_OUTPUT, "criu dump of pid " + pid + " left unreadable images: " + e.getMessage()
          + "; process resumed", CriuCommand.tail(fin.resolve("dump.log")));
    }
    String detail = stats.parentUsed()
        ? "incremental dump: " + stats.pagesWritten() + " pages written, " + stats.pagesSkippedParent() + " taken from the parent"
        : full
            ? "full dump: " + stats.pagesWritten() + " pages written"
            : "CRIU fell back to a full dump (pages_skipped_parent=0, " + stats.pagesWritten() + " pages written)";
    Instant freezeStarted = frozen.filter(f -> f.isAfter(criuStarted)).orElse(criuStarted);
    return new Result(root, freezeStarted, dumpTime, fin, bytes, stats, detail,
        Duration.between(criuStarted, freezeStarted), parentTime);
  }

  /** Rollback: resume the stopped tree. Idempotent; returns whether anything was stopped. */
  public boolean resume(ProcessTree.Identity dumped) {
    return processes.resume(dumped) > 0;
  }

  /** After the commit: kill the stopped source copy. Idempotent; false if it was already gone. */
  public boolean kill(ProcessTree.Identity dumped) {
    return processes.kill(dumped);
  }

  /** Bytes of the image files to send (not CRIU's logs, not the parent link). */
  static long imageBytes(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      long total = 0;
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS) && isImage(f)) {
          total += Files.size(f);
        }
      }
      return total;
    }
  }

  /**
   * Files that travel to the destination: CRIU's images and {@link ImagePids#FILE}; not logs,
   * our command output, or the parent link (the destination makes its own).
   */
  public static boolean travels(Path f) {
    String n = f.getFileName().toString();
    return n.equals(ImagePids.FILE) || isImage(f);
  }

  /** CRIU's image files (what {@link Result#finalImageBytes} counts). */
  public static boolean isImage(Path f) {
    String n = f.getFileName().toString();
    return !n.endsWith(".log") && !n.endsWith(".out") && !n.equals("parent") && !n.equals(ImagePids.FILE);
  }
}
