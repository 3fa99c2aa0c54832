package dev.ferry.agent.tracking;

import dev.ferry.proto.TrackerKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The fallback tracker for kernels without soft-dirty: every round reads every copyable page
 * (present or swapped, see {@link dev.ferry.agent.memory.AreaKind}), hashes it (XXH64) and sends
 * the pages whose hash changed. A page of private anonymous memory that was sent and is now
 * neither present nor swapped (dropped with MADV_DONTNEED) reads as zeros: it is sent as a zero
 * flag once. Nothing is cleared, so nothing needs a freeze: the capture only
 * reads the layout, and the dirty set is decided during the copy. Memory: 8 bytes per page.
 *
 * <p>A page written during its own read may be sent torn; its contents then differ next round,
 * so it is sent again. CRIU's incremental dump cannot use this tracker (no soft-dirty bits): it
 * serves dry runs and the final frozen round.
 */
public final class ContentHashSession extends TreeSession {
  private final PageHashes hashes = new PageHashes();

  public ContentHashSession(int pid, TrackerSettings settings, String reason) throws TrackingException {
    super(pid, settings, TrackerKind.CONTENT_HASH, reason);
  }

  @Override
  public CapturedRound capture() throws TrackingException, InterruptedException {
    int number = nextRound();
    List<Integer> pids = tree();
    Instant at = Instant.now();
    List<ProcessScan> scans;
    try (TreeScan scan = plan(pids)) {
      scan.read();
      // holes: pages dropped since they were sent (MADV_DONTNEED) go out as zero flags
      scans = decode(scan, ProcessScanner.Mode.EVERY_COPYABLE, hashes);
    }
    for (ProcessScan s : scans) {
      hashes.retain(s.pid(), s.areas());
    }
    return round(number, at, Duration.ZERO, scans, layouts(scans), hashes);
  }

  @Override
  protected void processGone(int pid) {
    hashes.forget(pid);
  }

  @Override
  protected void copyFailed() {
    hashes.clear();
  }

  /** Bytes of hashes held (8 per copyable page). */
  public long hashBytes() {
    return hashes.bytes();
  }
}
