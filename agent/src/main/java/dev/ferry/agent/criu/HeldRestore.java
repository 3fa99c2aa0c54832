package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * A {@code criu restore} started while the flat top layer is still being built, and held at its
 * pre-restore action script until {@link #release}d: its exec, dynamic linking and set-up then
 * overlap the build instead of following it in the downtime.
 *
 * <p>What CRIU has read when it runs pre-restore ({@code cr_restore_tasks}, then
 * {@code restore_root_task} runs the script first): the inventory, pstree, ids and the file
 * images (its shared set-up), and it has connected to the lazy-pages daemon. It has forked
 * nothing and read no pagemap or pages image: those are read by the restored tasks, after the
 * release. So the flat layer's pagemaps and pages (all the build writes) may be written while it
 * is held, and every other image it may read is the final dump's own, linked by
 * {@link FlatTop#prepareDir} before the start.
 *
 * <p>Safety: until the release nothing of the process exists on this host, so {@link #abort}
 * (or the script giving up: the agent gone, or {@code maxHold} over) ends CRIU with "Aborting
 * restore due to pre-restore script" and nothing to clean up. A CRIU that exited before it
 * reached the hold (e.g. no lazy-pages daemon to connect to) restored nothing either: the caller
 * then runs a restore afresh.
 *
 * <p>Threading: started on one thread, then released or aborted by one owner at a time.
 */
final class HeldRestore implements AutoCloseable {
  static final String SCRIPT = "hold-pre-restore.sh";
  static final String HELD = "held";
  static final String RELEASE = "release";
  static final String ABORT = "abort";
  static final String FIFO = "wake";

  private final Process process;
  private final Path holdDir;
  private final Path imagesDir;
  private final long startedNanos;
  /** Set by {@link #release}: from then on the restore is its releaser's to await, never aborted. */
  private volatile boolean released;

  private HeldRestore(Process process, Path holdDir, Path imagesDir, long startedNanos) {
    this.process = process;
    this.holdDir = holdDir;
    this.imagesDir = imagesDir;
    this.startedNanos = startedNanos;
  }

  /**
   * Starts {@code criu <restoreArgs> --action-script holdDir/hold-pre-restore.sh} in
   * {@code imagesDir} (its output in {@code restore.out} there). {@code holdDir} is emptied first;
   * the script signals {@code held} there when CRIU waits, and waits (woken through a FIFO, or
   * polling every 50 ms without forking) for {@code release} (exit 0) or {@code abort} (exit 1),
   * the agent's exit, or {@code maxHold}.
   */
  static HeldRestore start(CriuCommand criu, Path imagesDir, Path holdDir, List<String> restoreArgs, Duration maxHold)
      throws CriuFailure {
    Path script = holdDir.resolve(SCRIPT);
    try {
      Restorer.deleteTree(holdDir);
      Files.createDirectories(holdDir);
      Files.writeString(script, script(holdDir, ProcessHandle.current().pid(), maxHold));
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot prepare the held restore in " + holdDir + ": " + e.getMessage(), e);
    }
    List<String> args = new java.util.ArrayList<>(restoreArgs);
    args.addAll(List.of("--action-script", script.toAbsolutePath().toString()));
    long started = System.nanoTime();
    return new HeldRestore(criu.start(args, imagesDir, "restore"), holdDir, imagesDir, started);
  }

  /**
   * The script. No {@code #!} line: CRIU runs every action script as {@code sh -c PATH} (also
   * post-restore, pre-resume, ... after the release, on the critical path), and sh then reads the
   * file itself (ENOEXEC): those cost no second exec. Only pre-restore starts bash, whose
   * {@code read -t} on the FIFO is a fork-free wait that a line written to the FIFO ends at once.
   */
  static String script(Path holdDir, long agentPid, Duration maxHold) {
    String dir = holdDir.toAbsolutePath().toString().replace("'", "'\\''");
    return """
        # Written by the Ferry agent: holds `criu restore` at its pre-restore point until the flat layer is built.
        [ "$CRTOOLS_SCRIPT_ACTION" = pre-restore ] || exit 0
        exec /bin/bash -c '
        dir=$1
        fifo="$dir/%s"
        rm -f "$fifo"; mkfifo "$fifo" && exec 3<>"$fifo"
        : > "$dir/%s"
        end=$((SECONDS + %d))
        while :; do
          [ -e "$dir/%s" ] && exit 0
          [ -e "$dir/%s" ] && exit 1
          kill -0 %d 2>/dev/null || exit 1
          [ "$SECONDS" -lt "$end" ] || exit 1
          read -r -t 0.05 -u 3 _ || :
        done' hold '%s'
        """.formatted(FIFO, HELD, Math.max(1, maxHold.toSeconds()), RELEASE, ABORT, agentPid, dir);
  }

  /** Whether CRIU still waits (or runs): false once it exited (failed before the hold, or gave up). */
  boolean alive() {
    return process.isAlive();
  }

  /** Its exit code, or -1 while it runs. */
  int exitCode() {
    return process.isAlive() ? -1 : process.exitValue();
  }

  /** Whether CRIU has reached the hold (and still waits there, if {@link #alive}). */
  boolean held() {
    return Files.exists(holdDir.resolve(HELD));
  }

  /** The last lines of CRIU's restore log (why a restore that is no longer {@link #alive} ended). */
  String logTail() {
    return CriuCommand.tail(imagesDir.resolve("restore.log"));
  }

  /**
   * Lets CRIU go on: the script sees {@code release} at once (woken through the FIFO) or within
   * its poll interval.
   */
  void release() throws IOException {
    released = true;
    Files.createFile(holdDir.resolve(RELEASE));
    Path fifo = holdDir.resolve(FIFO);
    if (Files.exists(fifo)) { // opened read-write: never blocks, also when the script is gone (Linux fifo(7))
      try (FileChannel wake = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        wake.write(ByteBuffer.wrap(new byte[] {'\n'}));
      } catch (IOException e) {
        // the poll sees the release file
      }
    }
  }

  /** Waits for the released restore (see {@link CriuCommand#await}); elapsed counts from its start. */
  CriuCommand.Run await(CriuCommand criu, Duration deadline) throws CriuFailure, InterruptedException {
    return criu.await(process, "restore", imagesDir, "restore", deadline, startedNanos);
  }

  /**
   * Ends a held restore that was not released: the script exits 1 and CRIU gives up before
   * forking anything; killed if it does not within a few seconds. Idempotent; never throws.
   */
  @Override
  public void close() {
    if (!released) {
      HeldDump.endHold(process, holdDir.resolve(ABORT));
    }
  }

}
