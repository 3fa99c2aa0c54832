package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.AgentCapabilities;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CriuProbeTest {

  @Test
  void aMissingExecutableIsMissingNotAnException() throws InterruptedException {
    CriuStatus s = new CriuProbe(new CriuCommand(Path.of("/nonexistent/criu"), 2), Duration.ofSeconds(30)).probe();
    CriuStatus.Missing m = assertInstanceOf(CriuStatus.Missing.class, s);
    assertTrue(m.detail().contains("/nonexistent/criu"), m.detail());
    AgentCapabilities caps = s.publishTo(AgentCapabilities.newBuilder()).build();
    assertFalse(caps.getCriuUsable());
    assertEquals("", caps.getCriuVersion());
    assertTrue(caps.getCriuDetail().contains("/nonexistent/criu"));
  }

  @Test
  void theInstalledCriuGivesATypedStatusWithItsVersion() throws InterruptedException {
    CriuStatus s = new CriuProbe(CriuCommand.onPath(), Duration.ofSeconds(60)).probe();
    AgentCapabilities caps = s.publishTo(AgentCapabilities.newBuilder()).build();
    if (s instanceof CriuStatus.Missing) {
      assertTrue(caps.getCriuDetail().length() > 0);
      return;
    }
    assertTrue(caps.getCriuVersion().matches("\\d+\\.\\d+(\\.\\d+)?"), caps.getCriuVersion());
    assertEquals(s.usable(), caps.getCriuUsable());
    if (!s.usable()) {
      assertTrue(caps.getCriuDetail().startsWith("criu check exited"), caps.getCriuDetail());
    }
  }

  @Test
  void checkOutputsAreInterpreted() {
    assertEquals(new CriuStatus.Usable("3.17.1"), CriuProbe.interpret("Version: 3.17.1\n", 0, "Looks good.\n"));
    CriuStatus bad = CriuProbe.interpret("Version: 3.17.1\nGitID: v3.17.1\n", 1,
        "Error (criu/util.c:642): exited, status=1\n"
            + "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
            + "Error (criu/crtools.c:260): Could not initialize kernel features detection.\n");
    assertEquals(new CriuStatus.Unusable("3.17.1",
        "criu check exited 1: Error (criu/crtools.c:260): Could not initialize kernel features detection."), bad);
    assertEquals("CRIU 3.17.1 unusable: criu check exited 1: Error (criu/crtools.c:260): Could not initialize kernel features detection.",
        bad.describe());
    assertEquals(new CriuStatus.Unusable("unknown", "criu check exited 1: must be run by root"),
        CriuProbe.interpret("", 1, "must be run by root\n"));
  }
}
