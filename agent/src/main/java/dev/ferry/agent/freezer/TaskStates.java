package dev.ferry.agent.freezer;

import dev.ferry.agent.memory.ProcessStat;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the scheduler state of every thread of a process from /proc/PID/task/TID/stat. */
final class TaskStates {
  private TaskStates() {}

  /** Outcome of looking at one process's threads. */
  enum Stopped { ALL, NOT_ALL, GONE }

  /**
   * ALL when every thread is stopped (T/t) or dead (Z/X), NOT_ALL otherwise, GONE when the
   * process no longer exists. {@code firstRunning} receives the first thread not stopped.
   */
  static Stopped check(int pid, StringBuilder firstRunning) {
    Path tasks = Path.of("/proc", Integer.toString(pid), "task");
    boolean any = false;
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
      for (Path task : dir) {
        ProcessStat stat;
        try {
          stat = ProcessStat.read(task.resolve("stat"));
        } catch (NoSuchFileException threadGone) {
          continue;
        }
        any = true;
        if (!stat.stopped() && !stat.zombie()) {
          if (firstRunning != null) {
            firstRunning.setLength(0);
            firstRunning.append("thread ").append(stat.pid()).append(" (").append(stat.command())
                .append(") in state ").append(stat.state());
          }
          return Stopped.NOT_ALL;
        }
      }
    } catch (NoSuchFileException gone) {
      return Stopped.GONE;
    } catch (IOException e) {
      return Stopped.GONE;
    }
    return any ? Stopped.ALL : Stopped.GONE;
  }
}
