package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Clears the soft-dirty bits of a process ({@code echo 4 > /proc/PID/clear_refs}). Public so the
 * switch-over can run the same freeze/clear sequence right before CRIU's incremental dump.
 */
public final class SoftDirtyBits {
  private SoftDirtyBits() {}

  /** Clears every soft-dirty bit of {@code pid}'s mm (and write-protects its pages). */
  public static void clear(int pid) throws TrackingException {
    Path file = Path.of("/proc", Integer.toString(pid), "clear_refs");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {'4'}));
    } catch (IOException e) {
      throw ProcErrors.of(e, pid, file.toString());
    }
  }
}
