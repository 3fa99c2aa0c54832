package dev.ferry.agent.criu.image;

import java.io.IOException;
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
    ProtoFields core = ProtoFields.firstEntry(Files.readAllBytes(file), CriuMagic.CORE, file);
    long mtype = -1;
    ProtoFields threadInfo = null;
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
    ProtoFields gpregs = null;
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
}
