package dev.ferry.agent.tracking;

import dev.ferry.agent.freezer.Freezer;
import dev.ferry.agent.freezer.Freezers;
import dev.ferry.agent.freezer.FrozenTree;
import dev.ferry.agent.memory.SoftDirtyBits;
import dev.ferry.proto.TrackerKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The soft-dirty tracker. Each capture: plan outside the window (maps read and classified,
 * pagemap files opened), then (a) freeze the tree, (b) re-check maps (a byte compare; re-plan
 * only if the layout changed) and read the raw pagemap entries of every copyable area, in
 * parallel, (c) clear_refs 4 every process, (d) thaw; then decode the entries: round 1 takes
 * every copyable page, later rounds the pages with bit 55 set plus ranges new since the last
 * round. The freeze is what makes (b)+(c) atomic: a write between the pagemap read and clear_refs
 * would set bit 55 only to have it cleared, and that page would never be copied again. Decoding
 * after the thaw loses nothing: it interprets entries read while the process was stopped. The
 * copy phase then reads the pages while the process runs; a page written meanwhile is dirty again
 * next round.
 */
public final class SoftDirtySession extends TreeSession {
  private boolean fullNext = true;
  private FreezeBreakdown lastBreakdown;

  /**
   * Where the last freeze window went: stopping every thread, re-checking maps, reading pagemap
   * (with how many threads), clear_refs, thaw; {@code replanned} when maps had changed since the
   * plan and were parsed again inside the window.
   */
  public record FreezeBreakdown(String freezer, Duration stop, Duration mapsCheck, Duration pagemap, int threads,
      Duration clear, Duration thaw, boolean replanned) {
    /** Inside the window: from the freeze request to the thaw done. */
    public Duration total() {
      return stop.plus(mapsCheck).plus(pagemap).plus(clear).plus(thaw);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT,
          "%s: stop %.2f ms, maps check %.2f ms%s, pagemap %.2f ms (%d thread%s), clear_refs %.2f ms, thaw %.2f ms",
          freezer, ms(stop), ms(mapsCheck), replanned ? " (changed: re-planned)" : "", ms(pagemap), threads,
          threads == 1 ? "" : "s", ms(clear), ms(thaw));
    }

    private static double ms(Duration d) {
      return d.toNanos() / 1e6;
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
    List<ProcessScan> scans;
    Instant at;
    Duration freeze;
    try (TreeScan scan = plan(pids)) {
      at = Instant.now();
      long t0 = System.nanoTime();
      long stopped;
      long checked;
      long read;
      long cleared;
      try (FrozenTree frozen = freezer.freeze(pids, settings.freezeTimeout())) {
        stopped = System.nanoTime();
        scan.revalidate(frozen.pids());
        checked = System.nanoTime();
        scan.read();
        read = System.nanoTime();
        // still frozen: nothing was written since the entries were read
        for (int pid : scan.pids()) {
          SoftDirtyBits.clear(pid);
        }
        cleared = System.nanoTime();
      }
      long thawed = System.nanoTime();
      freeze = Duration.ofNanos(thawed - t0);
      lastBreakdown = new FreezeBreakdown(freezer.describe(), Duration.ofNanos(stopped - t0), Duration.ofNanos(checked - stopped),
          Duration.ofNanos(read - checked), pagemapThreads(), Duration.ofNanos(cleared - read), Duration.ofNanos(thawed - cleared),
          scan.replanned());
      scans = decode(scan, mode, null);
    }
    fullNext = false;
    return round(number, at, freeze, scans, layouts(scans), PageFilter.ALL);
  }

  @Override
  protected void copyFailed() {
    // pages captured this round were cleared but not delivered: resend everything next round
    fullNext = true;
  }
}
