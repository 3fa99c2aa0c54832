package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Probes CRIU: {@code criu --version}, then {@code criu check}. Never throws for an unusable
 * CRIU: that is a {@link CriuStatus}. Runs two short child processes; call it at agent start and
 * publish the result in AgentCapabilities, not per request.
 */
public final class CriuProbe {
  private static final Pattern VERSION = Pattern.compile("(?m)^Version:\\s*(\\S+)");

  private final CriuCommand criu;
  private final Duration deadline;

  public CriuProbe(CriuCommand criu, Duration deadline) {
    this.criu = criu;
    this.deadline = deadline;
  }

  public CriuStatus probe() throws InterruptedException {
    Path work;
    try {
      work = Files.createTempDirectory("ferry-criu-probe");
    } catch (IOException e) {
      return new CriuStatus.Unusable("", "cannot create a temporary dir for the probe: " + e.getMessage());
    }
    try {
      CriuCommand.Run version = criu.run(List.of("--version"), work, "version", deadline);
      if (version.exitCode() != 0) {
        return new CriuStatus.Missing(criu.executable() + " --version exited " + version.exitCode() + ": " + lastLine(version.output()));
      }
      CriuCommand.Run check = criu.run(List.of("check"), work, "check", deadline);
      return interpret(version.output(), check.exitCode(), check.output());
    } catch (CriuFailure e) {
      return e.reason() == CriuFailure.Reason.MISSING
          ? new CriuStatus.Missing(e.getMessage())
          : new CriuStatus.Unusable("", e.getMessage());
    } finally {
      deleteQuietly(work);
    }
  }

  /** Pure: the status from the outputs of `criu --version` and `criu check`. */
  static CriuStatus interpret(String versionOutput, int checkExit, String checkOutput) {
    Matcher m = VERSION.matcher(versionOutput);
    String version = m.find() ? m.group(1) : "unknown";
    if (checkExit == 0) {
      return new CriuStatus.Usable(version);
    }
    String reason = checkOutput.lines()
        .map(String::strip)
        .filter(l -> l.startsWith("Error") || l.contains("rror ("))
        .reduce((a, b) -> b)
        .orElse(lastLine(checkOutput));
    return new CriuStatus.Unusable(version, "criu check exited " + checkExit + ": " + reason);
  }

  private static String lastLine(String output) {
    return output.lines().map(String::strip).filter(l -> !l.isEmpty()).reduce((a, b) -> b).orElse("(no output)");
  }

  private static void deleteQuietly(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a leftover temp dir is harmless
    }
  }
}
