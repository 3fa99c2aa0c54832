package dev.ferry.agent.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.Await;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The duty-cycle throttle against a real child process and real SIGSTOP/SIGCONT. */
class ThrottleTest {
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private Process child;
  private int pid;

  @BeforeEach
  void start() throws Exception {
    child = new ProcessBuilder("sh", "-c", "while :; do :; done").start(); // always runnable: 'R' unless stopped
    pid = (int) child.pid();
  }

  @AfterEach
  void stop() throws Exception {
    new Signals().send(pid, Signals.SIGCONT);
    child.destroyForcibly().waitFor();
    scheduler.shutdownNow();
  }

  @Test
  void stopsAndContinuesTheProcessEveryPeriod() throws Exception {
    try (Throttle throttle = new Throttle(pid, new Signals(), scheduler)) {
      assertEquals(50, throttle.set(50));
      assertEquals(50, throttle.percent());
      await("the throttled process is seen stopped", () -> Signals.state(pid) == 'T', Duration.ofSeconds(10));
      await("and continued again", () -> Signals.state(pid) != 'T', Duration.ofSeconds(10));
      await("and stopped again", () -> Signals.state(pid) == 'T', Duration.ofSeconds(10));
    }
  }

  @Test
  void closingWhileStoppedLeavesTheProcessRunning() throws Exception {
    Throttle throttle = new Throttle(pid, new Signals(), scheduler);
    throttle.set(90);
    await("stopped", () -> Signals.state(pid) == 'T', Duration.ofSeconds(10));
    throttle.close();
    assertEquals(0, throttle.percent());
    await("continued at once", () -> Signals.state(pid) != 'T', Duration.ofSeconds(5));
    neverFor("stays running after close", () -> Signals.state(pid) == 'T', Duration.ofMillis(500));
  }

  @Test
  void settingZeroStopsTheDutyCycle() throws Exception {
    try (Throttle throttle = new Throttle(pid, new Signals(), scheduler)) {
      throttle.set(80);
      await("stopped", () -> Signals.state(pid) == 'T', Duration.ofSeconds(10));
      assertEquals(0, throttle.set(0));
      await("continued", () -> Signals.state(pid) != 'T', Duration.ofSeconds(5));
      neverFor("no more stops", () -> Signals.state(pid) == 'T', Duration.ofMillis(500));
    }
  }

  @Test
  void refusesPercentagesOutsideTheRangeAndSurvivesAVanishedProcess() throws Exception {
    try (Throttle throttle = new Throttle(pid, new Signals(), scheduler)) {
      assertThrows(IllegalArgumentException.class, () -> throttle.set(100));
      assertThrows(IllegalArgumentException.class, () -> throttle.set(-1));
      assertEquals(0, throttle.percent());
      throttle.set(50);
      child.destroyForcibly().waitFor();
      assertEquals(20, throttle.set(20)); // the SIGCONT to a gone pid fails quietly
    }
  }

  /** The duty cycle's stop and run windows are 10 ms or longer: Await's 20 ms poll sees both within seconds. */
  private static void await(String what, BooleanSupplier condition, Duration limit) throws InterruptedException {
    Await.until(what, condition, limit);
  }

  /** Watches {@code bad} for {@code window} (three throttle periods and more): it must never hold. */
  private static void neverFor(String what, BooleanSupplier bad, Duration window) {
    long end = System.nanoTime() + window.toNanos();
    while (System.nanoTime() < end) {
      assertTrue(!bad.getAsBoolean(), what);
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // poll /proc every 2 ms
    }
  }
}
