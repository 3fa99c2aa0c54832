package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import dev.ferry.testkit.Await;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hold protocol of {@link HeldDump}: its real action script, run by a stand-in for criu that
 * does what {@code criu dump} does with it (runs it with CRTOOLS_SCRIPT_ACTION=pre-dump before
 * touching anything, gives up when it fails). This host's CRIU fails before it runs scripts; the
 * lab's switch-over tests run the held dump with the real one.
 */
class HeldDumpTest {
  @TempDir Path dir;
  private CriuCommand criu;

  @BeforeEach
  void fakeCriu() throws Exception {
    criu = fakeCriu("fake-criu", """
        touch "$d/seized"
        CRTOOLS_SCRIPT_ACTION=post-dump sh -c "$s" || exit 1
        exit 0
        """);
  }

  /**
   * A stand-in for criu dump: parses -D, --action-script and --prev-images-dir, refuses a missing
   * parent as criu 3.17 does (before any script), runs the pre-dump script as criu does, then
   * {@code afterPreDump} (shell; $d the images dir, $s the script, $parent the parent dir).
   */
  private CriuCommand fakeCriu(String name, String afterPreDump) throws Exception {
    Path fake = dir.resolve(name);
    Files.writeString(fake, """
        #!/bin/bash
        d=; s=; parent=; prev=
        for a; do [ "$prev" = -D ] && d=$a; [ "$prev" = --action-script ] && s=$a; [ "$prev" = --prev-images-dir ] && parent=$a; prev=$a; done
        # as criu 3.17: a --prev-images-dir that does not exist fails the start, before any script
        if [ -n "$parent" ] && [ ! -d "$d/$parent" ]; then echo "parent $parent missing"; exit 1; fi
        CRTOOLS_SCRIPT_ACTION=pre-dump sh -c "$s" || { echo "Pre dump script failed"; exit 1; }
        """ + afterPreDump);
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    return new CriuCommand(fake, 2);
  }


  @Test
  void aHeldDumpWaitsUntilReleasedThenGoesOn() throws Exception {
    HeldDump held = HeldDump.start(criu, 4242, dir.resolve("m1"),
        List.of("--track-mem", "--prev-images-dir", "../parent"), Duration.ofMinutes(5));
    awaitHoldLoopRunning(dir.resolve("m1"));
    assertTrue(held.alive(), "held at pre-dump");
    assertFalse(Files.exists(dir.resolve("m1/final/seized")), "nothing touched before the release");
    long t0 = System.nanoTime();
    held.release();
    CriuCommand.Run run = held.await(criu, Duration.ofSeconds(30));
    assertEquals(0, run.exitCode(), run.output());
    assertTrue(Files.exists(dir.resolve("m1/final/seized")));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms < 5_000, "released within a poll interval and the stand-in's exit: " + ms + " ms");
    held.abort(); // released: a no-op
  }

  @Test
  void anAbortedHoldEndsWithoutTouchingAnything() throws Exception {
    HeldDump held = HeldDump.start(criu, 4242, dir.resolve("m2"), List.of(), Duration.ofMinutes(5));
    awaitFile(dir.resolve("m2/final/dump.out"));
    held.abort();
    assertFalse(held.alive());
    assertFalse(Files.exists(dir.resolve("m2/final/seized")));
    assertTrue(Files.readString(dir.resolve("m2/final/dump.out")).contains("Pre dump script failed"));
  }

  @Test
  void aHoldGivesUpByItselfAfterItsLimit() throws Exception {
    HeldDump held = HeldDump.start(criu, 4242, dir.resolve("m3"), List.of(), Duration.ofSeconds(1));
    Await.until("the hold to give up after maxHold", () -> !held.alive(), Duration.ofSeconds(30));
    assertFalse(Files.exists(dir.resolve("m3/final/seized")));
  }

  @Test
  void theScriptLetsEveryOtherActionPass() throws Exception {
    Path script = dir.resolve("s.sh");
    Files.writeString(script, HeldDump.script(dir, ProcessHandle.current().pid(), Duration.ofSeconds(5)));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", script.toString()); // as criu runs it
    pb.environment().put("CRTOOLS_SCRIPT_ACTION", "network-lock");
    assertEquals(0, pb.start().waitFor());
  }

  @Test
  void theParentWrittenAheadIsWhatTheReleasedDumpReadsAndTheCheckpointDoesNotRewriteIt() throws Exception {
    CriuCommand readsParent = fakeCriu("fake-criu-reads-parent", """
        ls "$d/$parent" > "$d/parent-seen"
        echo "Error (fake criu): stops after reading the parent"; exit 1
        """);
    Process sleep = new ProcessBuilder("sleep", "600").redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectErrorStream(true).start();
    try {
      int pid = (int) sleep.pid();
      Checkpointer cp = new Checkpointer(readsParent, new MinimalParentImages(), new ProcessTree(),
          Duration.ofSeconds(60), List.of());
      Path work = dir.resolve("m4");
      HeldDump held = cp.hold(pid, work, Duration.ofMinutes(5));
      cp.writeParent(work, snapshot(pid, 111)); // after round 1
      cp.writeParent(work, snapshot(pid, 222)); // after round 2, the dump still held
      assertTrue(Files.exists(work.resolve("parent/pagemap-222.img")));
      assertFalse(Files.exists(work.resolve("parent/pagemap-111.img")), "an earlier round's pagemap is replaced, not left");
      assertTrue(held.alive());
      // the checkpoint's snapshot says 333, but it was told the parent is written: nothing is rewritten
      CriuFailure f = assertThrows(CriuFailure.class, () -> cp.checkpoint(pid, work, snapshot(pid, 333), held, true));
      assertTrue(f.getMessage().contains("resumed"), f.getMessage());
      String seen = Files.readString(work.resolve("final/parent-seen"));
      assertTrue(seen.contains("pagemap-222.img") && !seen.contains("pagemap-333.img"), "criu read: " + seen);
      assertTrue(seen.contains("inventory.img"), "criu read: " + seen);

      // not written ahead: the checkpoint writes its own snapshot before the release
      HeldDump again = cp.hold(pid, work, Duration.ofMinutes(5));
      cp.writeParent(work, snapshot(pid, 222));
      assertThrows(CriuFailure.class, () -> cp.checkpoint(pid, work, snapshot(pid, 333), again, false));
      String seenAgain = Files.readString(work.resolve("final/parent-seen"));
      assertTrue(seenAgain.contains("pagemap-333.img") && !seenAgain.contains("pagemap-222.img"), "criu read: " + seenAgain);
    } finally {
      sleep.destroyForcibly();
    }
  }

  private static ParentSnapshot snapshot(int pid, int imagePid) throws java.io.IOException {
    return new ParentSnapshot(BootClock.uptime(), List.of(new ParentSnapshot.Process(pid, imagePid,
        List.of(new dev.ferry.agent.tracking.AddressRange(0x10000, 0x12000)))));
  }

  /** Until the hold loop (bash, given the work dir) runs: the stand-in, like criu, waits for it. */
  private static void awaitHoldLoopRunning(Path workDir) throws InterruptedException {
    String dir = workDir.toAbsolutePath().toString();
    Await.until("a hold loop for " + dir, () -> ProcessHandle.allProcesses().anyMatch(p -> p.info().arguments()
        .map(a -> java.util.Arrays.asList(a).contains(dir)).orElse(false)), Duration.ofSeconds(30));
  }

  private static void awaitFile(Path f) throws InterruptedException {
    Await.until(f + " to appear", () -> Files.exists(f), Duration.ofSeconds(30));
  }
}
