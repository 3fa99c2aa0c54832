package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.tracking.TrackingException.Reason;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** Maps failures at the /proc edge to typed {@link TrackingException}s naming pid and file. */
public final class ProcErrors {
  private ProcErrors() {}

  /**
   * @param what what was being read, e.g. "/proc/42/maps"
   */
  public static TrackingException of(IOException e, int pid, String what) {
    if (e instanceof NoSuchFileException) {
      return new TrackingException(Reason.PROCESS_EXITED, pid, "process " + pid + " exited (" + what + " is gone)", e);
    }
    if (e instanceof AccessDeniedException) {
      return new TrackingException(Reason.PERMISSION_DENIED, pid, "permission denied reading " + what + " of process " + pid, e);
    }
    String msg = String.valueOf(e.getMessage());
    if (msg.contains("No such process") || msg.contains("ESRCH")) {
      return new TrackingException(Reason.PROCESS_EXITED, pid, "process " + pid + " exited while reading " + what, e);
    }
    if (msg.contains("Permission denied") || msg.contains("Operation not permitted")) {
      return new TrackingException(Reason.PERMISSION_DENIED, pid, "permission denied on " + what + " of process " + pid + ": " + msg, e);
    }
    return new TrackingException(Reason.IO_ERROR, pid, "reading " + what + " of process " + pid + " failed: " + msg, e);
  }

  /** Maps an errno from process_vm_readv or kill. */
  public static TrackingException ofErrno(int errno, int pid, String what) {
    switch (errno) {
      case LinuxLibc.ESRCH:
        return new TrackingException(Reason.PROCESS_EXITED, pid, "process " + pid + " exited during " + what);
      case LinuxLibc.EPERM:
        return new TrackingException(Reason.PERMISSION_DENIED, pid, "not permitted to " + what + " process " + pid + " (needs CAP_SYS_PTRACE or the same uid)");
      default:
        return new TrackingException(Reason.IO_ERROR, pid, what + " of process " + pid + " failed with errno " + errno);
    }
  }
}
