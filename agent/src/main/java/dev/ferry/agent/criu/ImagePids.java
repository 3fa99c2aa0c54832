package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The mapping from the pids the agents track (outer pids) to the pids CRIU names its images after
 * (innermost NSpid). The source writes it into the final image dir as {@value #FILE}; it travels
 * with the images, and the destination needs it to name the parent's pagemaps. CRIU ignores the
 * file.
 */
public record ImagePids(Map<Integer, Integer> imagePidByTrackedPid) {
  public static final String FILE = "ferry-pids.txt";

  public ImagePids {
    imagePidByTrackedPid = Map.copyOf(imagePidByTrackedPid);
  }

  public int imagePid(int trackedPid) throws IOException {
    Integer p = imagePidByTrackedPid.get(trackedPid);
    if (p == null) {
      throw new IOException("no image pid for tracked pid " + trackedPid + " in " + FILE + " " + imagePidByTrackedPid);
    }
    return p;
  }

  void write(Path dir) throws IOException {
    StringBuilder s = new StringBuilder();
    imagePidByTrackedPid.forEach((t, i) -> s.append(t).append(' ').append(i).append('\n'));
    Files.writeString(dir.resolve(FILE), s);
  }

  static ImagePids read(Path dir) throws IOException {
    Map<Integer, Integer> m = new LinkedHashMap<>();
    for (String line : Files.readAllLines(dir.resolve(FILE))) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.strip().split("\\s+");
      if (f.length != 2) {
        throw new IOException("malformed line in " + FILE + ": '" + line + "'");
      }
      try {
        m.put(Integer.parseInt(f[0]), Integer.parseInt(f[1]));
      } catch (NumberFormatException e) {
        throw new IOException("malformed line in " + FILE + ": '" + line + "'", e);
      }
    }
    return new ImagePids(m);
  }
}
