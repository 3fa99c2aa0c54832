package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Finds areas backed by transparent huge pages (AnonHugePages &gt; 0 in /proc/PID/smaps). They
 * make soft-dirty tracking 2 MiB-granular: one written byte marks 512 pages dirty. Reading smaps
 * walks the page tables, so it is done outside the freeze.
 */
public final class HugePageAreas {
  private HugePageAreas() {}

  /** Start addresses of the areas with anonymous huge pages. */
  public static Set<Long> of(int pid) throws TrackingException {
    Path file = Path.of("/proc", Integer.toString(pid), "smaps");
    try {
      return parse(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      throw ProcErrors.of(e, pid, file.toString());
    }
  }

  /** Parses smaps text; pure. */
  public static Set<Long> parse(String smaps) {
    Set<Long> out = new HashSet<>();
    long current = -1;
    for (String line : smaps.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int sp = line.indexOf(' ');
      String first = sp < 0 ? line : line.substring(0, sp);
      if (!first.endsWith(":") && first.indexOf('-') > 0) { // an area header, like a maps line
        current = Long.parseUnsignedLong(first.substring(0, first.indexOf('-')), 16);
      } else if (line.startsWith("AnonHugePages:") && current != -1) {
        String kb = line.substring("AnonHugePages:".length()).trim().split("\\s+")[0];
        if (Long.parseLong(kb) > 0) {
          out.add(current);
        }
      }
    }
    return out;
  }
}
