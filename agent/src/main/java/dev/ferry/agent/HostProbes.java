package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
}
