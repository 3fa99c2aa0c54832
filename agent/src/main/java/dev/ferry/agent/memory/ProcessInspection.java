package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a full first round of a pid would copy, without copying (for InspectProcess): the tree,
 * threads, copyable bytes (present or swapped pages CRIU would dump), areas, THP areas, state.
 *
 * @param copyableBytes over the whole tree
 * @param areas copyable areas over the whole tree
 * @param thpAreas copyable areas with anonymous huge pages
 */
public record ProcessInspection(int pid, String command, char state, List<Integer> tree, int threads,
    long copyableBytes, int areas, int thpAreas) {

  /** Inspects {@code pid}; the same typed errors as {@link TargetProcess#check}. */
  public static ProcessInspection of(int pid) throws TrackingException {
    ProcessStat stat = TargetProcess.check(pid);
    List<Integer> tree = ProcessTree.of(pid);
    ByteBuffer buffer = AlignedBuffers.allocate(64 * 1024 * PagemapEntry.BYTES);
    long pages = 0;
    int areas = 0;
    int thp = 0;
    for (int p : tree) {
      try {
        Set<Long> huge = HugePageAreas.of(p);
        try (PagemapReader pagemap = new PagemapReader(p, buffer)) {
          for (MappedArea area : MapsReader.read(p)) {
            AreaKind kind = AreaKind.of(area);
            if (!kind.copied()) {
              continue;
            }
            areas++;
            if (huge.contains(area.start())) {
              thp++;
            }
            long[] n = {0};
            pagemap.read(area.start(), area.end(), (a, e, count) -> {
              for (int i = 0; i < count; i++) {
                if (kind.copies(e.get(i))) {
                  n[0]++;
                }
              }
            });
            pages += n[0];
          }
        }
      } catch (TrackingException e) {
        if (p == pid || e.reason() != TrackingException.Reason.PROCESS_EXITED) {
          throw e;
        }
      }
    }
    return new ProcessInspection(pid, stat.command(), stat.state(), tree, threads(pid), pages * PageSize.BYTES, areas, thp);
  }

  private static int threads(int pid) {
    try (Stream<Path> s = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
      return (int) s.count();
    } catch (IOException gone) {
      return 0;
    }
  }
}
