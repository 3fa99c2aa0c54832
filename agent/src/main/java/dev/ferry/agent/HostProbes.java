package dev.ferry.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What this host can do, for AgentCapabilities. Each probe returns a typed result, never throws:
 * "unsupported" is an answer, not an error.
 */
final class HostProbes {
  private HostProbes() {}

  static String kernel() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** {@code criu --version} and {@code criu check}; ("", false, why) when CRIU is missing. */
  record Criu(String version, boolean usable, String detail) {}

  static Criu criu() {
    Run version = run(10, "criu", "--version");
    if (!version.ok()) {
      return new Criu("", false, "criu not runnable: " + version.output());
    }
    String v = version.output().lines().filter(l -> l.startsWith("Version:")).map(l -> l.substring(8).trim()).findFirst().orElse(version.output().trim());
    Run check = run(30, "criu", "check");
    return new Criu(v, check.ok(), check.ok() ? "" : "criu check failed: " + lastLine(check.output()));
  }

  private record Run(boolean ok, String output) {}

  private static Run run(int timeoutSeconds, String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readNBytes(64 * 1024);
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Run(false, command[0] + " timed out");
      }
      return new Run(p.exitValue() == 0, new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Run(false, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Run(false, "interrupted");
    }
  }

  private static String lastLine(String s) {
    String[] lines = s.strip().split("\n");
    return lines.length == 0 ? "" : lines[lines.length - 1];
  }
}
