package dev.ferry.agent.transfer;

import java.time.Duration;

/**
 * Paces a sender to at most {@code bytesPerSecond} (0 = unlimited), allowing a burst of 1/20 s.
 * The caller's thread sleeps: call it only from the copy thread, never from a gRPC thread.
 *
 * <p>Confined to one thread.
 */
public final class BandwidthLimiter {
  private final long bytesPerSecond;
  private long nextFreeNanos = System.nanoTime();

  public BandwidthLimiter(long bytesPerSecond) {
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("bandwidth limit must be >= 0, got " + bytesPerSecond);
    }
    this.bytesPerSecond = bytesPerSecond;
  }

  public static BandwidthLimiter unlimited() {
    return new BandwidthLimiter(0);
  }

  /** Accounts {@code bytes} about to be sent, sleeping first if the budget is spent. */
  public void acquire(long bytes) throws InterruptedException {
    if (bytesPerSecond == 0) {
      return;
    }
    long now = System.nanoTime();
    long burst = Duration.ofMillis(50).toNanos();
    nextFreeNanos = Math.max(nextFreeNanos, now - burst);
    nextFreeNanos += (long) (bytes * 1e9 / bytesPerSecond);
    long wait = nextFreeNanos - now;
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }
}
