package dev.ferry.agent.memory;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * The few libc calls Java lacks, bound with JNA direct mapping (no per-call reflection or
 * marshalling: pointers are passed as raw addresses of direct buffers). Errors: the call returns
 * -1 and {@link Native#getLastError()} holds errno, which JNA saves right after each call on the
 * calling thread.
 */
public final class LinuxLibc {
  public static final int EPERM = 1;
  public static final int ESRCH = 3;
  public static final int EFAULT = 14;
  public static final int ENOMEM = 12;
  public static final int SIGKILL = 9;
  public static final int SIGCONT = 18;
  public static final int SIGSTOP = 19;

  static {
    Native.register(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
  }

  private LinuxLibc() {}

  /** ssize_t process_vm_readv(pid, local_iov, liovcnt, remote_iov, riovcnt, flags). */
  public static native long process_vm_readv(int pid, long localIov, long localCount, long remoteIov, long remoteCount, long flags);

  /** madvise advice: never back this range with transparent huge pages. */
  public static final int MADV_NOHUGEPAGE = 15;

  /** int madvise(addr, length, advice). */
  public static native int madvise(long address, long length, int advice);

  /** int kill(pid, sig). */
  public static native int kill(int pid, int sig);

  public static final long PTRACE_DETACH = 17;
  public static final long PTRACE_SEIZE = 0x4206;
  public static final long PTRACE_INTERRUPT = 0x4207;

  /**
   * long ptrace(request, pid, addr, data): only the integer requests (seize, interrupt, detach);
   * every request on a tracee must come from the very thread that seized it.
   */
  public static native long ptrace(long request, int pid, long address, long data);

  public static int errno() {
    return Native.getLastError();
  }
}
