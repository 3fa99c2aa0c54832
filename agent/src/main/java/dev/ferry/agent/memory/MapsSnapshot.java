package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * One read of /proc/PID/maps, its raw text kept so a later read can be compared byte for byte.
 * A session reads maps before the freeze (parsing and classifying outside the window) and inside
 * the freeze only re-reads the text and compares it: equal text means the very same areas (the
 * same start, end, permissions, offset, device, inode and path for every line), so the pagemap
 * ranges planned before the freeze are exactly the ranges to read. Any change, even an area
 * unmapped and mapped again identically, falls back to parsing the new text inside the freeze.
 *
 * <p>Immutable.
 */
public final class MapsSnapshot {
  private final int pid;
  private final byte[] text;
  private final List<MappedArea> areas;

  private MapsSnapshot(int pid, byte[] text) {
    this.pid = pid;
    this.text = text;
    this.areas = List.copyOf(MapsReader.parse(new String(text, java.nio.charset.StandardCharsets.ISO_8859_1)));
  }

  public static MapsSnapshot read(int pid) throws TrackingException {
    return new MapsSnapshot(pid, readText(pid));
  }

  private static byte[] readText(int pid) throws TrackingException {
    Path file = Path.of("/proc", Integer.toString(pid), "maps");
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw ProcErrors.of(e, pid, file.toString());
    }
  }

  public int pid() {
    return pid;
  }

  public List<MappedArea> areas() {
    return areas;
  }

  /**
   * Re-reads maps: this snapshot when the text is unchanged (the cheap path inside a freeze: one
   * read and a byte compare, no parsing), else a new snapshot of the current text.
   */
  public MapsSnapshot reread() throws TrackingException {
    byte[] now = readText(pid);
    return Arrays.equals(now, text) ? this : new MapsSnapshot(pid, now);
  }
}
