package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The downtime's start: a real child process, stopped by a real SIGSTOP (what CRIU's freeze looks like in /proc). */
class FreezeWatchTest {
  private final ProcessTree processes = new ProcessTree();

  private static Process sleeper() throws Exception {
    return new ProcessBuilder("sleep", "600")
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
  }

  @Test
  void notesTheInstantTheProcessStops() throws Exception {
    Process p = sleeper();
    try (FreezeWatch watch = FreezeWatch.start((int) p.pid(), Duration.ofMillis(2), processes::state)) {
      Await.until("the sleeper is asleep", () -> processes.state((int) p.pid()).orElse("").equals("S"), Duration.ofSeconds(10));
      assertTrue(watch.frozenAt().isEmpty(), "a running process is not frozen");
      Instant before = Instant.now();
      assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(p.pid())).start().waitFor());
      Await.until("the stop is seen", () -> watch.frozenAt().isPresent(), Duration.ofSeconds(10));
      assertFalse(watch.frozenAt().get().isBefore(before), "seen after the SIGSTOP was sent: " + watch.frozenAt().get());
    } finally {
      p.destroyForcibly().waitFor();
    }
  }

  @Test
  void aProcessThatExitsIsNeverFrozen() throws Exception {
    Process p = sleeper();
    try (FreezeWatch watch = FreezeWatch.start((int) p.pid(), Duration.ofMillis(2), processes::state)) {
      p.destroyForcibly().waitFor();
      Await.until("the sleeper is reaped", () -> processes.state((int) p.pid()).isEmpty(), Duration.ofSeconds(10));
      assertTrue(watch.frozenAt().isEmpty());
    }
  }

  @Test
  void stateLetters() {
    assertTrue(FreezeWatch.frozen("t"));
    assertTrue(FreezeWatch.frozen("T"));
    assertFalse(FreezeWatch.frozen("S"));
    assertFalse(FreezeWatch.frozen("R"));
    assertFalse(FreezeWatch.frozen("Z"));
  }
}
