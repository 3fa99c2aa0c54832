package dev.ferry.agent.memory;

import java.nio.ByteBuffer;

/** All-zero page detection (zero pages travel as a flag, not 4 KiB of zeros). */
public final class ZeroPages {
  private ZeroPages() {}

  /**
   * True when the page at {@code offset} of a native-order buffer is all zeros. Non-zero pages
   * usually fail on the first word, so the check costs next to nothing for them.
   */
  public static boolean isZero(ByteBuffer buffer, int offset) {
    if (buffer.getLong(offset) != 0) {
      return false;
    }
    for (int i = offset, end = offset + PageSize.BYTES; i < end; i += 64) {
      long acc = buffer.getLong(i) | buffer.getLong(i + 8) | buffer.getLong(i + 16) | buffer.getLong(i + 24)
          | buffer.getLong(i + 32) | buffer.getLong(i + 40) | buffer.getLong(i + 48) | buffer.getLong(i + 56);
      if (acc != 0) {
        return false;
      }
    }
    return true;
  }
}
