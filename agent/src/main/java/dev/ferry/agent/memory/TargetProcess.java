package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.tracking.TrackingException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Checks that a pid can be tracked from here, with one typed error per reason it cannot. */
public final class TargetProcess {
  private TargetProcess() {}

  /**
   * @return the process's stat when it can be tracked
   * @throws TrackingException NO_SUCH_PROCESS, AGENT_ITSELF, KERNEL_THREAD, PROCESS_EXITED (a
   *     zombie), PERMISSION_DENIED (its memory cannot be read)
   */
  public static ProcessStat check(int pid) throws TrackingException {
    if (pid <= 0) {
      throw new TrackingException(Reason.NO_SUCH_PROCESS, pid, "no such process: pid " + pid + " is not a valid pid");
    }
    if (pid == ProcessHandle.current().pid()) {
      throw new TrackingException(Reason.AGENT_ITSELF, pid, "pid " + pid + " is the Ferry agent itself; it cannot migrate itself");
    }
    ProcessStat stat;
    try {
      stat = ProcessStat.of(pid);
    } catch (NoSuchFileException e) {
      throw new TrackingException(Reason.NO_SUCH_PROCESS, pid, "no such process: pid " + pid);
    } catch (IOException e) {
      throw ProcErrors.of(e, pid, "/proc/" + pid + "/stat");
    }
    if (stat.kernelThread()) {
      throw new TrackingException(Reason.KERNEL_THREAD, pid,
          "pid " + pid + " (" + stat.command() + ") is a kernel thread: it has no user memory to migrate");
    }
    if (stat.zombie()) {
      throw new TrackingException(Reason.PROCESS_EXITED, pid, "pid " + pid + " (" + stat.command() + ") has exited (zombie)");
    }
    Path pagemap = Path.of("/proc", Integer.toString(pid), "pagemap");
    try (var in = Files.newInputStream(pagemap)) {
      in.readNBytes(8);
    } catch (IOException e) {
      TrackingException t = ProcErrors.of(e, pid, pagemap.toString());
      throw t.reason() == Reason.PROCESS_EXITED
          ? new TrackingException(Reason.NO_SUCH_PROCESS, pid, "no such process: pid " + pid, e) : t;
    }
    return stat;
  }
}
