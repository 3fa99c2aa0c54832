package dev.ferry.agent.source;

import com.sun.jna.Library;
import com.sun.jna.Native;

/** kill(2) through JNA: the JDK has no way to send SIGSTOP/SIGCONT to another process. */
public final class Signals {
  public static final int SIGKILL = 9;
  public static final int SIGCONT = 18;
  public static final int SIGSTOP = 19;

  private interface LibC extends Library {
    int kill(int pid, int sig);
  }

  private final LibC libc = Native.load("c", LibC.class);

  /** Sends {@code signal}; false if the process does not exist (or may not be signalled). */
  public boolean send(int pid, int signal) {
    return libc.kill(pid, signal) == 0;
  }

  /** The state letter of /proc/PID/stat ('T' stopped), or '?' if the process is gone. */
  public static char state(int pid) {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (java.io.IOException | RuntimeException e) {
      return '?';
    }
  }
}
