package dev.ferry.agent.criu.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the one figure the flat top layer needs from a {@code core-<tid>.img}, the x86-64 stack
 * pointer ({@code CoreEntry.thread_info.gpregs.sp}), straight from the image's bytes: the rest of
 * the entry (FPU/xsave state, signal actions, creds, ...: kilobytes of fields Ferry's trimmed
 * {@code ferry/criu.proto} does not declare) is skipped by its lengths, never parsed. The generic
 * path (a message with its unknown fields kept) ran interpreted in the downtime: ~0.5 s of the
 * flat build under the lab's emulation on a loaded host.
 */
public final class CoreScan {
  private CoreScan() {}

  private static final int CORE_MTYPE = 1, CORE_THREAD_INFO = 2, THREAD_INFO_GPREGS = 2, GPREGS_SP = 20;
  private static final long MTYPE_X86_64 = 1;

  /** The thread's stack pointer; IOException naming the file when it is no core image or no x86-64 thread. */
  public static long stackPointer(Path file) throws IOException {
    byte[] b = Files.readAllBytes(file);
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    if (b.length < 12 || bb.getInt(0) != CriuMagic.IMG_COMMON || bb.getInt(4) != CriuMagic.CORE.magic()) {
      throw new IOException(file + " is not a core image");
    }
    int size = bb.getInt(8);
    if (size < 0 || 12 + size > b.length) {
      throw new IOException(file + ": truncated core entry");
    }
    Fields core = new Fields(b, 12, 12 + size, file);
    long mtype = -1;
    Fields threadInfo = null;
    while (core.next()) {
      if (core.field == CORE_MTYPE && core.wire == 0) {
        mtype = core.varint();
      } else if (core.field == CORE_THREAD_INFO && core.wire == 2) {
        threadInfo = core.message();
      } else {
        core.skip();
      }
    }
    if (mtype != MTYPE_X86_64 || threadInfo == null) {
      throw new IOException(file + ": not an x86-64 thread (mtype " + mtype + "): its stack pointer is unknown");
    }
    Fields gpregs = null;
    while (threadInfo.next()) {
      if (threadInfo.field == THREAD_INFO_GPREGS && threadInfo.wire == 2) {
        gpregs = threadInfo.message();
      } else {
        threadInfo.skip();
      }
    }
    if (gpregs != null) {
      while (gpregs.next()) {
        if (gpregs.field == GPREGS_SP && gpregs.wire == 0) {
          return gpregs.varint();
        }
        gpregs.skip();
      }
    }
    throw new IOException(file + ": not an x86-64 thread (no gpregs.sp): its stack pointer is unknown");
  }

  /** A walk over the fields of one message's bytes {@code [pos, end)}. */
  private static final class Fields {
    private final byte[] b;
    private final Path file;
    private final int end;
    private int pos;
    int field;
    int wire;

    Fields(byte[] b, int pos, int end, Path file) {
      this.b = b;
      this.pos = pos;
      this.end = end;
      this.file = file;
    }

    boolean next() throws IOException {
      if (pos >= end) {
        return false;
      }
      long tag = varint();
      field = (int) (tag >>> 3);
      wire = (int) (tag & 7);
      return true;
    }

    long varint() throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          break;
        }
        byte x = b[pos++];
        v |= (long) (x & 0x7f) << shift;
        if (x >= 0) {
          return v;
        }
      }
      throw new IOException(file + ": malformed core entry (varint)");
    }

    Fields message() throws IOException {
      int len = length();
      Fields f = new Fields(b, pos, pos + len, file);
      pos += len;
      return f;
    }

    void skip() throws IOException {
      switch (wire) {
        case 0 -> varint();
        case 1 -> advance(8);
        case 2 -> advance(length());
        case 5 -> advance(4);
        default -> throw new IOException(file + ": malformed core entry (wire type " + wire + ")");
      }
    }

    private int length() throws IOException {
      long len = varint();
      if (len < 0 || len > end - pos) {
        throw new IOException(file + ": malformed core entry (a field runs past its end)");
      }
      return (int) len;
    }

    private void advance(int n) throws IOException {
      if (n > end - pos) {
        throw new IOException(file + ": malformed core entry (a field runs past its end)");
      }
      pos += n;
    }
  }
}
