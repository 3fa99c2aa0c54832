package dev.ferry.agent.memory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A process and its descendants (each has its own mm and is tracked separately; threads share
 * their process's mm). Children come from /proc/PID/task/TID/children of every thread (a child's
 * parent is the thread that forked it).
 */
public final class ProcessTree {
  private ProcessTree() {}

  /** {@code root} first, then descendants breadth first. A root that is gone yields [root]. */
  public static List<Integer> of(int root) {
    Set<Integer> seen = new LinkedHashSet<>();
    List<Integer> queue = new ArrayList<>();
    queue.add(root);
    for (int i = 0; i < queue.size(); i++) {
      int pid = queue.get(i);
      if (!seen.add(pid)) {
        continue;
      }
      for (int child : children(pid)) {
        if (!seen.contains(child)) {
          queue.add(child);
        }
      }
    }
    return List.copyOf(seen);
  }

  /** Direct children of every thread of {@code pid}; empty when it is gone. */
  public static List<Integer> children(int pid) {
    List<Integer> out = new ArrayList<>();
    Path tasks = Path.of("/proc", Integer.toString(pid), "task");
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
      for (Path task : dir) {
        String text;
        try {
          text = Files.readString(task.resolve("children"));
        } catch (IOException gone) {
          continue; // the thread exited meanwhile
        }
        for (String tok : text.trim().split("\\s+")) {
          if (!tok.isEmpty()) {
            out.add(Integer.parseInt(tok));
          }
        }
      }
    } catch (IOException gone) {
      return List.of();
    }
    return out;
  }
}
