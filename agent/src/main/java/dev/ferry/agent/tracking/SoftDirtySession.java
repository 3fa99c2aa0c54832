package dev.ferry.agent.tracking;

import dev.ferry.agent.freezer.Freezer;
import dev.ferry.agent.freezer.Freezers;
import dev.ferry.agent.freezer.FrozenTree;
import dev.ferry.agent.memory.SoftDirtyBits;
import dev.ferry.proto.TrackerKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The soft-dirty tracker. Each capture: (a) freeze the tree, (b) read maps and pagemap: round 1
 * takes every copyable page, later rounds the pages with bit 55 set plus ranges new since the last
 * round, (c) clear_refs 4 every process, (d) thaw. The freeze is what makes (b)+(c) atomic: a
 * write between the pagemap read and clear_refs would set bit 55 only to have it cleared, and
 * that page would never be copied again. The copy phase then reads the pages while the process
 * runs; a page written meanwhile is dirty again next round.
 */
public final class SoftDirtySession extends TreeSession {
  private boolean fullNext = true;
  private FreezeBreakdown lastBreakdown;

  /**
   * Where the last freeze window went: stopping every thread, maps + pagemap, clear_refs, thaw.
   */
  public record FreezeBreakdown(String freezer, Duration stop, Duration scan, Duration clear, Duration thaw) {
    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "%s: stop %.2f ms, maps+pagemap %.2f ms, clear_refs %.2f ms, thaw %.2f ms",
          freezer, stop.toNanos() / 1e6, scan.toNanos() / 1e6, clear.toNanos() / 1e6, thaw.toNanos() / 1e6);
    }
  }

  /** The breakdown of the last capture's freeze window; null before the first capture. */
  public FreezeBreakdown lastBreakdown() {
    return lastBreakdown;
  }

  /**
   * Use {@link PrecopySessions#open} normally; this constructor skips the probe (for the
   * benchmark on kernels without soft-dirty, where round 1 is still a full round).
   */
  public SoftDirtySession(int pid, TrackerSettings settings, String reason) throws TrackingException {
    super(pid, settings, TrackerKind.SOFT_DIRTY, reason);
  }

  @Override
  public CapturedRound capture() throws TrackingException, InterruptedException {
    int number = nextRound();
    List<Integer> pids = tree();
    Freezer freezer = Freezers.forTree(pids);
    ProcessScanner.Mode mode = fullNext ? ProcessScanner.Mode.EVERY_COPYABLE : ProcessScanner.Mode.SOFT_DIRTY;
    Instant at = Instant.now();
    long t0 = System.nanoTime();
    List<ProcessScan> scans;
    long stopped;
    long scanned;
    long cleared;
    try (FrozenTree frozen = freezer.freeze(pids, settings.freezeTimeout())) {
      stopped = System.nanoTime();
      scans = scan(frozen.pids(), mode);
      scanned = System.nanoTime();
      for (ProcessScan s : scans) {
        SoftDirtyBits.clear(s.pid());
      }
      cleared = System.nanoTime();
    }
    long thawed = System.nanoTime();
    Duration freeze = Duration.ofNanos(thawed - t0);
    lastBreakdown = new FreezeBreakdown(freezer.describe(), Duration.ofNanos(stopped - t0), Duration.ofNanos(scanned - stopped),
        Duration.ofNanos(cleared - scanned), Duration.ofNanos(thawed - cleared));
    fullNext = false;
    return round(number, at, freeze, scans, layouts(scans), PageFilter.ALL);
  }

  @Override
  protected void copyFailed() {
    // pages captured this round were cleared but not delivered: resend everything next round
    fullNext = true;
  }
}
