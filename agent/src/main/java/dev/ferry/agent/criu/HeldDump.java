package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code criu dump} started ahead of the switch-over and held at its pre-dump action script
 * until {@link #release}d, so that the dump seizes the process a fraction of a second after the
 * release instead of after CRIU's start-up.
 *
 * <p>Why: {@code criu dump} spends its first 1.5-3.5 s (lab emulation; exec and dynamic linking
 * of its libraries before its log even starts) before it seizes the tree. The process runs
 * meanwhile, which is not downtime, but every page it writes then is in the final dump: the lab's
 * final dumps were 1.8-2.3x the last round. CRIU runs {@code --action-script} with
 * {@code CRTOOLS_SCRIPT_ACTION=pre-dump} after that start-up and before it reads the parent images
 * or touches the process (lab log: script at 0.045 s, seize at 0.29 s after CRIU's start).
 *
 * <p>Safety: until the release CRIU has not seized, stopped or read anything of the process, so
 * {@link #abort} (or the hold script giving up: the agent gone, or {@code maxHold} over) ends it with
 * "pre dump script failed" and the process untouched. The parent images and the image pids must be
 * in place before the release (CRIU reads them after it).
 *
 * <p>Threading: the migration's round thread starts, releases and aborts it (one at a time).
 */
public final class HeldDump implements AutoCloseable {
  static final String SCRIPT = "hold-pre-dump.sh";
  static final String RELEASE = "release";
  static final String ABORT = "abort";

  private final Process process;
  private final Path workDir;
  private final Path finalDir;
  private final int pid;
  private final long startedNanos;
  /** Set by {@link #release}: from then on the dump is its releaser's to await, never aborted. */
  private boolean released;

  private HeldDump(Process process, Path workDir, Path finalDir, int pid, long startedNanos) {
    this.process = process;
    this.workDir = workDir;
    this.finalDir = finalDir;
    this.pid = pid;
    this.startedNanos = startedNanos;
  }

  /**
   * Starts {@code criu dump -t pid -D workDir/final <args> --action-script workDir/hold-pre-dump.sh}
   * (the work dir is emptied first). The script waits at pre-dump, polling every 20 ms without
   * forking, for {@code release} (exit 0) or {@code abort} (exit 1) in the work dir, the agent's
   * exit, or {@code maxHold}.
   */
  static HeldDump start(CriuCommand criu, int pid, Path workDir, List<String> dumpArgs, Duration maxHold) throws CriuFailure {
    Path fin = workDir.resolve("final");
    Path script = workDir.resolve(SCRIPT);
    try {
      Restorer.deleteTree(workDir);
      Files.createDirectories(fin);
      // criu dump refuses to start when --prev-images-dir does not exist (exit 1 before its log);
      // it reads the parent only after the release, when the checkpoint has written it
      Files.createDirectories(workDir.resolve("parent"));
      Files.writeString(script, script(workDir, ProcessHandle.current().pid(), maxHold));
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot prepare the held dump in " + workDir + ": " + e.getMessage(), e);
    }
    List<String> args = new ArrayList<>(List.of("dump", "-t", Integer.toString(pid), "-D", fin.toString()));
    args.addAll(dumpArgs);
    args.addAll(List.of("--action-script", script.toString()));
    long started = System.nanoTime();
    return new HeldDump(criu.start(args, fin, "dump"), workDir, fin, pid, started);
  }

  /**
   * The script. No {@code #!} line on purpose: CRIU runs every action script as {@code sh -c PATH}
   * (pre-dump, but also post-dump inside its frozen window), and sh then reads the file itself
   * (ENOEXEC), so a post-dump costs no second exec. Only pre-dump starts bash, whose {@code read -t}
   * on a private FIFO is a fork-free 20 ms sleep.
   */
  static String script(Path workDir, long agentPid, Duration maxHold) {
    String dir = workDir.toAbsolutePath().toString().replace("'", "'\\''");
    return """
        # Written by the Ferry agent: holds `criu dump` at its pre-dump point until the switch-over.
        [ "$CRTOOLS_SCRIPT_ACTION" = pre-dump ] || exit 0
        exec /bin/bash -c '
        dir=$1
        fifo="$dir/.hold-fifo"
        rm -f "$fifo"; mkfifo "$fifo" && exec 3<>"$fifo"; rm -f "$fifo"
        end=$((SECONDS + %d))
        while :; do
          [ -e "$dir/%s" ] && exit 0
          [ -e "$dir/%s" ] && exit 1
          kill -0 %d 2>/dev/null || exit 1
          [ "$SECONDS" -lt "$end" ] || exit 1
          read -r -t 0.02 -u 3 _ || :
        done' hold '%s'
        """.formatted(Math.max(1, maxHold.toSeconds()), RELEASE, ABORT, agentPid, dir);
  }

  /** The pid it will dump. */
  public int pid() {
    return pid;
  }

  public Path workDir() {
    return workDir;
  }

  Path finalDir() {
    return finalDir;
  }

  /** The last lines criu printed (why a hold that is no longer {@link #alive} ended). */
  public String outputTail() {
    return CriuCommand.tail(finalDir.resolve("dump.out"));
  }

  /** Whether criu still waits (or runs): false once it exited (gave up, or failed to start). */
  public boolean alive() {
    return process.isAlive();
  }

  /** Lets CRIU go on: it seizes the process within a poll interval plus its remaining set-up. */
  void release() throws IOException {
    released = true;
    Files.createFile(workDir.resolve(RELEASE));
  }

  /** Waits for the released dump (see {@link CriuCommand#await}); elapsed counts from its start. */
  CriuCommand.Run await(CriuCommand criu, Duration deadline) throws CriuFailure, InterruptedException {
    return criu.await(process, "dump", finalDir, "dump", deadline, startedNanos);
  }

  /**
   * Ends a held dump that was not released: the script exits 1, CRIU gives up before touching the
   * process; killed if it does not within a few seconds. Idempotent; never throws.
   */
  public void abort() {
    if (released) {
      return; // a released dump may hold the process stopped: only its releaser may end it
    }
    endHold(process, workDir.resolve(ABORT));
  }

  /**
   * Ends a criu held at an action script of this package's hold protocol (HeldDump, HeldRestore)
   * and not released: creates its {@code abort} file (the script exits 1, CRIU gives up before
   * touching anything) and kills it if it does not end within a few seconds. Never throws;
   * restores the interrupt.
   */
  static void endHold(Process process, Path abortFile) {
    if (!process.isAlive()) {
      return;
    }
    try {
      Files.createFile(abortFile);
    } catch (IOException e) {
      // already there, or the dir is gone (the script then fails its checks too): killed below
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }


  @Override
  public void close() {
    abort();
  }
}
