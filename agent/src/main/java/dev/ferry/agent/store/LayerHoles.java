package dev.ferry.agent.store;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import dev.ferry.agent.transfer.PageHashing;
import java.nio.file.Path;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frees the disk blocks of superseded pages: when a committed round replaces a page, the older
 * layer's copy is dead (the index never reads it again), so its 4 KiB are punched out of the layer
 * file ({@code fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)}). Without this a store kept
 * every round's pages until a whole layer died, which with random writes is never: 1 GiB dirtied
 * at random over 8 rounds took ~4 GiB, and the lab's 1 GiB downtime benchmark filled its disk.
 *
 * <p>Crash safety: only pages a COMMITTED round superseded are punched (called while that round's
 * log is replayed, after its rename), file sizes are kept, and a reopened store replays the same
 * logs, so it never reads a punched page (and punches again, harmlessly).
 *
 * <p>File systems without hole punching (EOPNOTSUPP) switch this off for the store, with one log
 * line: the store works as before. Runs of consecutive pages are punched with one call.
 *
 * <p>Threading: confined to the store's round thread (commit and reopen replay).
 */
final class LayerHoles {
  private static final Logger log = LoggerFactory.getLogger(LayerHoles.class);
  private static final int PAGE = PageHashing.PAGE;
  private static final int FALLOC_FL_KEEP_SIZE = 0x01;
  private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
  private static final int O_WRONLY = 0x01;
  private static final int O_CLOEXEC = 0x80000;
  private static final int EOPNOTSUPP = 95;

  /** libc, bound once per JVM (JNA direct mapping; errno via LastErrorException). */
  private static final class Libc {
    static {
      Native.register(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    static native int open(String path, int flags) throws LastErrorException;

    static native int fallocate(int fd, int mode, long offset, long length) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;
  }

  private final String migrationId;
  private final IntFunction<Path> layerFile;
  private boolean supported = true;
  /** The run being collected: layer round, first page index, page count (0: none). */
  private int runRound = -1;
  private long runStart;
  private long runPages;
  /** fd of {@link #fdRound}'s file, kept across runs of the same layer; -1 when none is open. */
  private int fd = -1;
  private int fdRound = -1;
  /** Bytes punched per layer (round) by this store instance; a deleted layer is forgotten. */
  private final java.util.Map<Integer, Long> punched = new java.util.HashMap<>();

  LayerHoles(String migrationId, IntFunction<Path> layerFile) {
    this.migrationId = migrationId;
    this.layerFile = layerFile;
  }

  /** Page {@code pageIndex} of layer {@code round} is dead. */
  void superseded(int round, long pageIndex) {
    if (!supported) {
      return;
    }
    if (round == runRound && pageIndex == runStart + runPages) {
      runPages++;
      return;
    }
    punchRun();
    runRound = round;
    runStart = pageIndex;
    runPages = 1;
  }

  /** Punches what was collected and closes the file; call at the end of each replayed log. */
  void flush() {
    punchRun();
    closeFd();
  }

  /** Bytes punched out of the layers still on disk (a reopened store replays, punches again and counts anew). */
  long punchedBytes() {
    return punched.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Layer {@code round} was deleted (compaction): its holes no longer count. */
  void forget(int round) {
    punched.remove(round);
  }

  private void punchRun() {
    if (runPages == 0 || !supported) {
      runPages = 0;
      return;
    }
    int round = runRound;
    long offset = runStart * PAGE;
    long length = runPages * PAGE;
    runPages = 0;
    try {
      if (fdRound != round) {
        closeFd();
        fd = Libc.open(layerFile.apply(round).toString(), O_WRONLY | O_CLOEXEC);
        fdRound = round;
      }
      Libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
      punched.merge(round, length, Long::sum);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == EOPNOTSUPP) {
        supported = false;
        log.info("migration {}: the store's file system cannot punch holes; superseded pages keep their disk space "
            + "until their whole round is superseded", migrationId);
      } else {
        // a layer deleted by compaction meanwhile, or an I/O error: the space stays used, nothing is lost
        log.debug("migration {}: could not free superseded pages of round {}: {}", migrationId, round, e.toString());
      }
      closeFd();
    }
  }

  private void closeFd() {
    if (fd >= 0) {
      try {
        Libc.close(fd);
      } catch (LastErrorException e) {
        log.debug("closing a layer of {}: {}", migrationId, e.toString());
      }
    }
    fd = -1;
    fdRound = -1;
  }
}
