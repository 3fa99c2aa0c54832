package dev.ferry.agent.source;

import dev.ferry.agent.criu.ProcCapabilities;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.tracking.TrackingException.Reason;
import dev.ferry.proto.ProcessInfo;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Answers InspectProcess from /proc: whether a pid can be migrated from here and what a first
 * round would copy (private readable areas; the engine's own rules refine this per round), and
 * the capabilities the tree holds (the coordinator checks the destination can restore them).
 */
final class ProcessInspector {
  private static final long PF_KTHREAD = 0x00200000L;

  ProcessInfo inspect(int pid) throws TrackingException {
    if (pid <= 0) {
      throw new TrackingException(Reason.NO_SUCH_PROCESS, pid, "pid " + pid + " is not a process id");
    }
    if (pid == ProcessHandle.current().pid()) {
      throw new TrackingException(Reason.AGENT_ITSELF, pid, "pid " + pid + " is this agent; it cannot migrate itself");
    }
    Path proc = Path.of("/proc", Integer.toString(pid));
    try {
      String stat = Files.readString(proc.resolve("stat"));
      String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      String state = after[0];
      long flags = Long.parseLong(after[6]);
      if ((flags & PF_KTHREAD) != 0) {
        throw new TrackingException(Reason.KERNEL_THREAD, pid, "pid " + pid + " is a kernel thread; it has no user memory to migrate");
      }
      if (state.equals("Z")) {
        throw new TrackingException(Reason.PROCESS_EXITED, pid, "pid " + pid + " is a zombie");
      }
      ProcessInfo.Builder info = ProcessInfo.newBuilder().setPid(pid).setState(state)
          .setCommand(Files.readString(proc.resolve("comm")).trim());
      for (String line : Files.readAllLines(proc.resolve("status"))) {
        if (line.startsWith("Threads:")) {
          info.setThreads(Integer.parseInt(line.substring(8).trim()));
        }
      }
      long copyable = 0;
      int areas = 0;
      for (String line : Files.readAllLines(proc.resolve("maps"))) {
        String[] f = line.split("\\s+", 6);
        String[] range = f[0].split("-");
        String perms = f[1];
        String name = f.length > 5 ? f[5] : "";
        areas++;
        if (perms.charAt(0) == 'r' && perms.charAt(3) == 'p' && !name.equals("[vvar]") && !name.equals("[vsyscall]")) {
          copyable += Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16);
        }
      }
      List<Integer> tree = tree(pid);
      info.setAreas(areas).setCopyableBytes(copyable).addAllTree(tree);
      ProcCapabilities.ofTree(tree).ifPresent(info::setCapabilities);
      return info.build();
    } catch (NoSuchFileException e) {
      throw new TrackingException(Reason.NO_SUCH_PROCESS, pid, "no process with pid " + pid);
    } catch (AccessDeniedException e) {
      throw new TrackingException(Reason.PERMISSION_DENIED, pid, "the agent may not read /proc/" + pid + " (" + e.getMessage() + ")");
    } catch (IOException | RuntimeException e) {
      throw new TrackingException(Reason.IO_ERROR, pid, "reading /proc/" + pid + ": " + e, e);
    }
  }

  /** pid and its descendants, breadth first (from /proc/PID/task/TID/children). */
  static List<Integer> tree(int pid) {
    List<Integer> out = new ArrayList<>();
    Deque<Integer> todo = new ArrayDeque<>(List.of(pid));
    while (!todo.isEmpty() && out.size() < 100_000) {
      int p = todo.poll();
      out.add(p);
      try (var tasks = Files.list(Path.of("/proc", Integer.toString(p), "task"))) {
        for (Path task : (Iterable<Path>) tasks::iterator) {
          String children = Files.readString(task.resolve("children")).trim();
          if (!children.isEmpty()) {
            for (String c : children.split("\\s+")) {
              todo.add(Integer.parseInt(c));
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        // the process or a thread went away meanwhile: its children are not ours to list
      }
    }
    return out;
  }
}
