package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.ferry.agent.tracking.AddressRange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where CRIU cannot work (this host kernel: `criu check` fails), a checkpoint must fail with
 * CRIU's reason and leave the process running, even one that was stopped when CRIU gave up. In
 * the lab, where CRIU works, the same guarantee is checked with a parent that CRIU rejects
 * (SwitchoverLabTest).
 */
class CheckpointFailureTest {
  @TempDir Path dir;
  private final ProcessTree processes = new ProcessTree();
  private MigratableLauncher.Launched sleeper;

  @BeforeEach
  void criuUnusableHere() throws Exception {
    assumeFalse(new CriuProbe(CriuCommand.onPath(), Duration.ofSeconds(60)).probe().usable(),
        "CRIU works here: the lab test covers the failure path");
  }

  @AfterEach
  void stop() {
    if (sleeper != null) {
      sleeper.close();
    }
  }

  @Test
  void aFailedDumpResumesTheStoppedProcessAndCarriesCriusLog() throws Exception {
    ProcessBuilder pb = new ProcessBuilder("setsid", "sleep", "600")
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true);
    Process sleep = pb.start();
    try {
      int pid = (int) sleep.pid();
      assertEquals(0, new ProcessBuilder("kill", "-STOP", Integer.toString(pid)).start().waitFor());
      awaitState(pid, "T");
      Checkpointer cp = new Checkpointer(CriuCommand.onPath(), new MinimalParentImages(), processes, Duration.ofSeconds(60), List.of());
      ParentSnapshot held = new ParentSnapshot(BootClock.uptime(),
          List.of(new ParentSnapshot.Process(pid, pid, List.of(new AddressRange(0x10000, 0x11000)))));
      CriuFailure f = assertThrows(CriuFailure.class, () -> cp.checkpoint(pid, dir.resolve("m1"), held));
      assertEquals(CriuFailure.Reason.FAILED, f.reason());
      assertTrue(f.getMessage().contains("resumed"), f.getMessage());
      assertTrue(f.logTail().contains("Error"), "CRIU's log tail: " + f.logTail());
      assertTrue(f.describe().contains("CRIU log tail"));
      awaitState(pid, "S");
      assertTrue(Files.exists(dir.resolve("m1/parent/pagemap-" + pid + ".img")), "parent written before the dump");
    } finally {
      sleep.destroyForcibly();
    }
  }

  @Test
  void aPidThatDoesNotExistIsAClearFailure() throws Exception {
    Checkpointer cp = new Checkpointer(CriuCommand.onPath(), new MinimalParentImages(), processes, Duration.ofSeconds(60), List.of());
    CriuFailure f = assertThrows(CriuFailure.class,
        () -> cp.checkpoint(Integer.MAX_VALUE - 1, dir, new ParentSnapshot(Duration.ofSeconds(1), List.of())));
    assertTrue(f.getMessage().contains("no process"), f.getMessage());
    assertFalse(Files.exists(dir.resolve("final")));
  }

  @Test
  void aFailedRestoreNamesTheReason() throws Exception {
    Restorer r = new Restorer(CriuCommand.onPath(), new MinimalParentImages(), processes, Duration.ofSeconds(60), List.of());
    Path fin = Restorer.finalDir(dir);
    Files.createDirectories(fin);
    new ImagePids(java.util.Map.of(4242, 1)).write(fin);
    ParentSnapshot held = new ParentSnapshot(Duration.ofSeconds(1),
        List.of(new ParentSnapshot.Process(4242, 4242, List.of(new AddressRange(0x10000, 0x11000)))));
    CriuFailure f = assertThrows(CriuFailure.class, () -> r.restore(dir, held));
    assertEquals(CriuFailure.Reason.FAILED, f.reason());
    assertTrue(Files.isSymbolicLink(fin.resolve("parent")));
    assertEquals(Path.of("..", "parent"), Files.readSymbolicLink(fin.resolve("parent")));
    assertTrue(Files.exists(dir.resolve("parent/pagemap-1.img")), "pagemap named after the image pid");
    r.discard(Optional.empty(), dir);
    assertFalse(Files.exists(dir));
  }

  private void awaitState(int pid, String state) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!processes.state(pid).orElse("gone").equals(state)) {
      if (System.nanoTime() > end) {
        throw new AssertionError("pid " + pid + " not in state " + state + " but " + processes.state(pid));
      }
      Thread.sleep(5);
    }
  }
}
