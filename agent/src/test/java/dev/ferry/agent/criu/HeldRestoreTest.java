package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restore started ahead and held at its pre-restore script, on this host where CRIU cannot run:
 * the stand-in "criu" runs its {@code --action-script} as CRIU does ({@code sh -c PATH} with
 * CRTOOLS_SCRIPT_ACTION, pre-restore before it "forks" anything, a non-zero exit aborting the
 * restore) and "restores" by writing its pid file only after that. The lab runs the real CRIU.
 */
class HeldRestoreTest {
  @TempDir Path dir;

  /** A "criu restore" that runs pre-restore, then writes {@code 4242} to its --pidfile, then runs post-restore. */
  private CriuCommand criuWithActionScripts() throws Exception {
    Path script = dir.resolve("fake-criu");
    Files.writeString(script, """
        #!/bin/sh
        pidfile=; action=
        while [ $# -gt 0 ]; do
          case "$1" in --pidfile) pidfile=$2; shift;; --action-script) action=$2; shift;; esac; shift
        done
        CRTOOLS_SCRIPT_ACTION=pre-restore sh -c "$action" || { echo "Aborting restore due to pre-restore script" >&2; exit 1; }
        echo 4242 > "$pidfile"
        CRTOOLS_SCRIPT_ACTION=post-restore sh -c "$action" || exit 1
        exit 0
        """);
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    return new CriuCommand(script, 2);
  }

  private HeldRestore start(CriuCommand criu, Path pidFile) throws Exception {
    Path images = dir.resolve("flat");
    Files.createDirectories(images);
    return HeldRestore.start(criu, images, dir.resolve("hold"),
        List.of("restore", "-D", images.toString(), "--pidfile", pidFile.toString()), Duration.ofSeconds(60));
  }

  @Test
  void itWaitsAtPreRestoreUntilReleasedThenRestores() throws Exception {
    CriuCommand criu = criuWithActionScripts();
    Path pidFile = dir.resolve("restored.pid");
    HeldRestore h = start(criu, pidFile);
    Await.until("criu reached its pre-restore hold", h::held, Duration.ofSeconds(20));
    // held: nothing restored however long it waits (no sleep: the script's own poll interval is 50 ms,
    // and the hold signal is written before its first poll)
    assertTrue(h.alive(), "still held");
    assertFalse(Files.exists(pidFile), "nothing restored before the release");
    h.release();
    CriuCommand.Run run = h.await(criu, Duration.ofSeconds(20));
    assertEquals(0, run.exitCode(), run.output());
    assertEquals("4242", Files.readString(pidFile).strip());
  }

  @Test
  void aReleaseBeforeTheHoldIsReachedIsNotLost() throws Exception {
    CriuCommand criu = criuWithActionScripts();
    Path pidFile = dir.resolve("restored.pid");
    HeldRestore h = start(criu, pidFile);
    h.release(); // at once: criu may not even have started its script yet
    assertEquals(0, h.await(criu, Duration.ofSeconds(20)).exitCode());
    assertTrue(Files.exists(pidFile));
  }

  @Test
  void anAbortedHoldRestoresNothing() throws Exception {
    CriuCommand criu = criuWithActionScripts();
    Path pidFile = dir.resolve("restored.pid");
    HeldRestore h = start(criu, pidFile);
    Await.until("criu reached its pre-restore hold", h::held, Duration.ofSeconds(20));
    h.close();
    assertFalse(h.alive(), "criu ended by the abort");
    assertNotEquals(0, h.exitCode());
    assertFalse(Files.exists(pidFile), "an aborted hold never restores");
    h.close(); // idempotent
  }

  @Test
  void theScriptLetsEveryOtherActionThroughAtOnce() throws Exception {
    Path script = dir.resolve(HeldRestore.SCRIPT);
    Files.writeString(script, HeldRestore.script(dir, ProcessHandle.current().pid(), Duration.ofSeconds(60)));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    for (String action : List.of("post-restore", "pre-resume", "post-resume", "network-unlock")) {
      ProcessBuilder pb = new ProcessBuilder("sh", "-c", script.toString());
      pb.environment().put("CRTOOLS_SCRIPT_ACTION", action);
      Process p = pb.start();
      assertTrue(p.waitFor(20, TimeUnit.SECONDS), action + " not held");
      assertEquals(0, p.exitValue(), action);
    }
  }
}
