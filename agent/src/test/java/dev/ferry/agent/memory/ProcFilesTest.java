package dev.ferry.agent.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.tracking.TrackingException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** stat and smaps parsing, and the typed target checks on real pids. */
class ProcFilesTest {

  @Test
  void statWithSpacesAndParenthesesInTheCommand() {
    ProcessStat s = ProcessStat.parse("4242 (my (odd) cmd) T 1 4242 4242 0 -1 4194560 24184 0 0 0");
    assertEquals(4242, s.pid());
    assertEquals("my (odd) cmd", s.command());
    assertEquals('T', s.state());
    assertEquals(1, s.parentPid());
    assertTrue(s.stopped());
    assertFalse(s.kernelThread());
    ProcessStat k = ProcessStat.parse("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 20");
    assertTrue(k.kernelThread());
  }

  @Test
  void smapsAreasWithAnonHugePages() {
    String smaps = String.join("\n",
        "55d4c2a00000-55d4c2a21000 rw-p 00000000 00:00 0                          [heap]",
        "Size:                132 kB",
        "AnonHugePages:         0 kB",
        "7f0000000000-7f0040000000 rw-p 00000000 00:00 0 ",
        "Size:            1048576 kB",
        "AnonHugePages:   1046528 kB",
        "VmFlags: rd wr mr mw me ac sd hg",
        "");
    assertEquals(Set.of(0x7f0000000000L), HugePageAreas.parse(smaps));
  }

  @Test
  void noSuchProcess() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor(10, TimeUnit.SECONDS);
    int pid = (int) p.pid();
    Assumptions.assumeFalse(Files.exists(Path.of("/proc/" + pid)), "pid reused already");
    TrackingException e = assertThrows(TrackingException.class, () -> TargetProcess.check(pid));
    assertEquals(Reason.NO_SUCH_PROCESS, e.reason());
    assertTrue(e.getMessage().contains(Integer.toString(pid)), e.getMessage());
  }

  @Test
  void theAgentItself() {
    int self = (int) ProcessHandle.current().pid();
    TrackingException e = assertThrows(TrackingException.class, () -> TargetProcess.check(self));
    assertEquals(Reason.AGENT_ITSELF, e.reason());
  }

  @Test
  void aKernelThread() throws Exception {
    Assumptions.assumeTrue(Files.exists(Path.of("/proc/2/stat")) && ProcessStat.of(2).kernelThread(), "kthreadd not visible");
    TrackingException e = assertThrows(TrackingException.class, () -> TargetProcess.check(2));
    assertEquals(Reason.KERNEL_THREAD, e.reason());
    assertTrue(e.getMessage().contains("kernel thread"), e.getMessage());
  }

  @Test
  void errnoMapping() {
    assertEquals(Reason.PROCESS_EXITED, ProcErrors.ofErrno(LinuxLibc.ESRCH, 7, "read").reason());
    assertEquals(Reason.PERMISSION_DENIED, ProcErrors.ofErrno(LinuxLibc.EPERM, 7, "read").reason());
    assertEquals(Reason.PERMISSION_DENIED,
        ProcErrors.of(new java.nio.file.AccessDeniedException("/proc/7/pagemap"), 7, "/proc/7/pagemap").reason());
  }
}
