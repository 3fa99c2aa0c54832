package dev.ferry.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition another process or thread makes true, with a deadline. For the states
 * that give no event to wait on (another process's /proc state, a leader latch seen through the
 * CLI, a migration's phase seen through a status call): polls every 20 ms.
 */
public final class Await {
  private static final long POLL_MILLIS = 20;

  private Await() {}

  /**
   * Returns once {@code condition} holds; fails with "{@code what} not within ..." after
   * {@code within} (scaled by {@link LabEnvironment#scaled} in the emulated lab).
   */
  public static void until(String what, BooleanSupplier condition, Duration within) throws InterruptedException {
    Duration scaled = LabEnvironment.scaled(within);
    long deadline = System.nanoTime() + scaled.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not within " + scaled);
      }
      Thread.sleep(POLL_MILLIS); // polling: see the class comment
    }
  }
}
