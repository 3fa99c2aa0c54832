package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Time since boot, as CRIU's inventory dump_uptime wants it (from /proc/uptime). */
public final class BootClock {
  private BootClock() {}

  public static Duration uptime() throws IOException {
    String first = Files.readString(Path.of("/proc/uptime")).strip().split("\\s+")[0];
    try {
      return Duration.ofNanos((long) (Double.parseDouble(first) * 1e9));
    } catch (NumberFormatException e) {
      throw new IOException("unreadable /proc/uptime: '" + first + "'", e);
    }
  }
}
