package dev.ferry.coordinator.policy;

import java.time.Duration;

/**
 * What the policy knows about one finished pre-copy round (a projection of the agent's
 * RoundFigures).
 *
 * @param round 1-based
 * @param dirtyPages pages found written (round 1: every copyable page)
 * @param zeroPages of those, all-zero pages (they cost a flag, not a page, on the wire)
 * @param bytesSent payload put on the wire
 * @param freezeWindow how long the process was stopped for the capture
 * @param copyTime reading and streaming the dirty pages, process running
 * @param roundTime the whole round, capture to acknowledgement
 * @param bandwidth the copy's measured throughput
 * @param dirtyPagesPerSecond pages dirtied per second since the previous capture
 * @param totalPages copyable pages now
 */
public record RoundSample(
    int round,
    long dirtyPages,
    long zeroPages,
    ByteSize bytesSent,
    Duration freezeWindow,
    Duration copyTime,
    Duration roundTime,
    Bandwidth bandwidth,
    double dirtyPagesPerSecond,
    long totalPages) {

  /** Bytes the dirty set costs on the wire (zero pages are a flag). */
  public ByteSize payload() {
    return ByteSize.ofPages(Math.max(0, dirtyPages - zeroPages));
  }

  /** Share of the dirty pages that are zero; used to predict the next round's payload. */
  double nonZeroShare() {
    return dirtyPages == 0 ? 1.0 : (double) (dirtyPages - zeroPages) / dirtyPages;
  }
}
