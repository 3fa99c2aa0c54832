package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads and parses /proc/PID/maps in one read. */
public final class MapsReader {
  private MapsReader() {}

  public static List<MappedArea> read(int pid) throws TrackingException {
    Path file = Path.of("/proc", Integer.toString(pid), "maps");
    String text;
    try {
      text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw ProcErrors.of(e, pid, file.toString());
    }
    return parse(text);
  }

  /** Parses a whole maps file; pure. */
  public static List<MappedArea> parse(String text) {
    List<MappedArea> areas = new ArrayList<>();
    int from = 0;
    while (from < text.length()) {
      int nl = text.indexOf('\n', from);
      int to = nl < 0 ? text.length() : nl;
      if (to > from) {
        areas.add(MappedArea.parse(text.substring(from, to)));
      }
      from = to + 1;
    }
    return areas;
  }
}
