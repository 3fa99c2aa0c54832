package dev.ferry.bench;

import dev.ferry.agent.criu.Restorer;

import dev.ferry.agent.criu.DumpStats;
import dev.ferry.agent.criu.image.CriuImageFile;
import dev.ferry.agent.criu.image.CriuMagic;
import dev.ferry.proto.criu.RestoreStatsEntry;
import dev.ferry.proto.criu.StatsEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * Where one switch-over's downtime goes, in wall milliseconds measured by the bench, plus CRIU's
 * own figures from stats-dump / stats-restore (which say whether the time is CRIU's memory work or
 * something around it).
 *
 * @param parentMs destination's parent layout (pages-N.img from the store); in the downtime only
 *     when {@code parentInDowntime}; -1: the store keeps it current at each commit (no layout)
 * @param dumpMs criu dump wall time: freeze to dump done
 * @param copyMs copying the final images to the destination dir
 * @param parentWaitMs waiting for the parent link to the store's layout, started when the dump started (the in_parent check runs alongside the restore: checkMs)
 * @param layoutMs restore-side pagemaps + parent link before criu restore
 * @param restoreMs criu restore wall time
 * @param resumeMs SIGCONT of the restored tree
 * @param sourceParentMs the source writing its parent image dir before criu dump (inside dumpMs)
 * @param beforeFreezeMs criu dump exec to CRIU's freeze (inside dumpMs; the process still runs)
 * @param checkMs the final dump's in_parent pages checked against the store, alongside the
 *     restore (-1: no check)
 * @param restoreWaitMs restore and check both done (wall, from the restore's start)
 * @param daemonStartMs the lazy-pages daemon's start until it listened (inside restoreMs; 0 without)
 * @param layering which top layer the restore used (flat, or the parent and why), null for a full dump;
 *     its steps (where restore+check went on the restoring thread, the flat build's own breakdown
 *     inside "build", and that thread's and the JVM's CPU time) are printed as "restore steps"
 */
record DowntimePhases(long parentMs, boolean parentInDowntime, long dumpMs, long copyMs, long parentWaitMs, long layoutMs,
    long restoreMs, long resumeMs, DumpStats dump, RestoreStatsEntry restore, long sourceParentMs, long beforeFreezeMs,
    long checkMs, long restoreWaitMs, Restorer.Layering layering, long daemonStartMs) {

  /** CRIU's stats-restore in {@code dir}, or an empty entry when CRIU left none. */
  static RestoreStatsEntry restoreStats(Path dir) {
    Path f = dir.resolve("stats-restore");
    try {
      if (!Files.exists(f)) {
        return RestoreStatsEntry.getDefaultInstance();
      }
      CriuImageFile.Image image = CriuImageFile.read(f);
      if (image.magic() != CriuMagic.STATS) {
        return RestoreStatsEntry.getDefaultInstance();
      }
      return CriuImageFile.entry(image, 0, StatsEntry.parser()).getRestore();
    } catch (IOException e) {
      return RestoreStatsEntry.getDefaultInstance();
    }
  }

  static long ms(long fromNanos, long toNanos) {
    return (toNanos - fromNanos) / 1_000_000;
  }

  String describe() {
    return String.format(Locale.ROOT,
        "parent %s | source parent images %d ms | dump %d ms [before the freeze %d ms; criu: freezing %d, frozen %d, memdump %d, memwrite %d ms; %d scanned, %d written, %d from parent]"
            + " | copy %d ms | parent link wait %d ms | layout %d ms | restore %d ms [lazy-pages daemon start %d ms; criu: forking %d, restore %d ms; %d pages restored]"
            + " | check %s | restore+check %d ms | resume %d ms%s",
        parentMs < 0 ? "kept by the store at each commit" : parentMs + " ms (" + (parentInDowntime ? "IN downtime" : "before the freeze") + ")", sourceParentMs, dumpMs, beforeFreezeMs, millis(dump.freezingTime()), millis(dump.frozenTime()),
        millis(dump.memdumpTime()), millis(dump.memwriteTime()), dump.pagesScanned(), dump.pagesWritten(), dump.pagesSkippedParent(),
        copyMs, parentWaitMs, layoutMs, restoreMs, daemonStartMs, Integer.toUnsignedLong(restore.getForkingTime()) / 1000,
        Integer.toUnsignedLong(restore.getRestoreTime()) / 1000, restore.getPagesRestored(),
        checkMs < 0 ? "none" : checkMs + " ms alongside the restore", restoreWaitMs, resumeMs,
        layering == null ? "" : " | top: " + layering.describe() + (layering.flat() ? "" : " [" + layering.buildTime().toMillis() + " ms trying flat]")
            + (layering.steps().steps().isEmpty() ? "" : " | restore steps: " + layering.steps().describe()));
  }

  private static long millis(Duration d) {
    return d.toMillis();
  }
}
