package dev.ferry.agent.freezer;

import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.tracking.TrackingException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Freezes through the cgroup v2 freezer ({@code cgroup.freeze}), usable only when the tree has a
 * cgroup of its own: every process of that cgroup (and its descendants) belongs to the tree, so
 * nothing else is frozen. A cgroup that was already frozen stays frozen after close.
 */
public final class CgroupFreezer implements Freezer {
  private final Path cgroup;

  private CgroupFreezer(Path cgroup) {
    this.cgroup = cgroup;
  }

  /** The freezer for {@code pids} (root first), or empty when the tree has no cgroup of its own. */
  public static Optional<CgroupFreezer> forTree(List<Integer> pids) {
    try {
      Optional<Path> mount = cgroup2Mount();
      if (mount.isEmpty() || pids.isEmpty()) {
        return Optional.empty();
      }
      String rel = null;
      for (String line : Files.readAllLines(Path.of("/proc", pids.get(0).toString(), "cgroup"))) {
        if (line.startsWith("0::")) {
          rel = line.substring(3);
        }
      }
      if (rel == null || rel.equals("/") || rel.isEmpty()) {
        return Optional.empty();
      }
      Path dir = mount.get().resolve(rel.substring(1));
      if (!Files.exists(dir.resolve("cgroup.freeze"))) {
        return Optional.empty();
      }
      Set<Integer> members = new HashSet<>();
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : (Iterable<Path>) walk.filter(Files::isDirectory)::iterator) {
          for (String l : Files.readAllLines(p.resolve("cgroup.procs"))) {
            if (!l.isBlank()) {
              members.add(Integer.parseInt(l.trim()));
            }
          }
        }
      }
      if (members.contains((int) ProcessHandle.current().pid()) || !new HashSet<>(pids).containsAll(members)
          || !members.containsAll(pids)) {
        return Optional.empty();
      }
      return Optional.of(new CgroupFreezer(dir));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Optional<Path> cgroup2Mount() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      int dash = line.indexOf(" - ");
      if (dash > 0 && line.substring(dash + 3).startsWith("cgroup2 ")) {
        return Optional.of(Path.of(line.split(" ")[4]));
      }
    }
    return Optional.empty();
  }

  @Override
  public String describe() {
    return "cgroup v2 " + cgroup;
  }

  @Override
  public FrozenTree freeze(List<Integer> pids, Duration timeout) throws TrackingException, InterruptedException {
    long t0 = System.nanoTime();
    int root = pids.get(0);
    boolean wasFrozen;
    try {
      wasFrozen = Files.readString(cgroup.resolve("cgroup.freeze")).trim().equals("1");
      if (!wasFrozen) {
        Files.writeString(cgroup.resolve("cgroup.freeze"), "1");
      }
    } catch (IOException e) {
      throw new TrackingException(Reason.IO_ERROR, root, "cannot freeze cgroup " + cgroup + ": " + e.getMessage(), e);
    }
    // a cgroup frozen before this round (by its operator, a throttle) stays frozen after it
    Runnable thaw = wasFrozen ? () -> { } : this::thaw;
    boolean done = false;
    try {
      long deadline = t0 + timeout.toNanos();
      while (!Files.readString(cgroup.resolve("cgroup.events")).contains("frozen 1")) {
        if (Thread.interrupted()) {
          throw new InterruptedException("interrupted while freezing " + cgroup);
        }
        if (System.nanoTime() > deadline) {
          throw new TrackingException(Reason.IO_ERROR, root, "cgroup " + cgroup + " did not freeze within " + timeout.toMillis() + " ms");
        }
        LockSupport.parkNanos(20_000);
      }
      done = true;
      return new HeldTree(pids, Duration.ofNanos(System.nanoTime() - t0), thaw);
    } catch (IOException e) {
      throw new TrackingException(Reason.IO_ERROR, root, "cannot read " + cgroup + "/cgroup.events: " + e.getMessage(), e);
    } finally {
      if (!done) {
        thaw.run();
      }
    }
  }

  private void thaw() {
    try {
      Files.writeString(cgroup.resolve("cgroup.freeze"), "0");
    } catch (IOException e) {
      org.slf4j.LoggerFactory.getLogger(CgroupFreezer.class)
          .error("could not thaw cgroup {}: {} (the process may stay frozen)", cgroup, e.toString());
    }
  }
}
