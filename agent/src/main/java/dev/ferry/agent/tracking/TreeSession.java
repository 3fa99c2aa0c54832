package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.HugePageAreas;
import dev.ferry.agent.memory.ParallelPagemap;
import dev.ferry.agent.memory.ProcessTree;
import dev.ferry.agent.memory.TargetProcess;
import dev.ferry.proto.TrackerKind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What both trackers share: the tree walk, the per-process scans, the memory of the previous
 * round's areas (for removed and new ranges), and the copy phase.
 *
 * <p>Not thread-safe: one round at a time on one thread, as {@link PrecopySession} says.
 */
abstract class TreeSession implements PrecopySession {
  protected final int root;
  protected final TrackerSettings settings;
  private final TrackerKind kind;
  private final String reason;
  private final PageCopier copier;
  /** Reused by every scan: its buffer and its reader threads (settings.pagemapThreads()). */
  private final ParallelPagemap pagemap;
  /** Copyable areas per pid as the last capture saw them; what the destination may hold. */
  private final Map<Integer, List<AddressRange>> previous = new LinkedHashMap<>();
  private int round;
  private boolean closed;

  TreeSession(int root, TrackerSettings settings, TrackerKind kind, String reason) throws TrackingException {
    TargetProcess.check(root);
    this.root = root;
    this.settings = settings;
    this.kind = kind;
    this.reason = reason;
    this.copier = new PageCopier(settings.copyBufferBytes());
    this.pagemap = new ParallelPagemap(settings.pagemapThreads());
  }

  @Override
  public TrackerKind kind() {
    return kind;
  }

  @Override
  public String reason() {
    return reason;
  }

  @Override
  public int rootPid() {
    return root;
  }

  protected int nextRound() {
    if (closed) {
      throw new IllegalStateException("session of pid " + root + " is closed");
    }
    return ++round;
  }

  protected List<Integer> tree() throws TrackingException {
    List<Integer> pids = ProcessTree.of(root);
    if (!new java.io.File("/proc/" + root).exists()) {
      throw new TrackingException(TrackingException.Reason.PROCESS_EXITED, root, "process " + root + " exited");
    }
    return pids;
  }

  /**
   * Plans the scan of the tree (before any freeze): maps read and classified, pagemap reads
   * split across the session's reader threads. Close the result.
   */
  protected TreeScan plan(List<Integer> pids) throws TrackingException {
    return TreeScan.plan(root, pids, pagemap);
  }

  /** Decodes a scan read this round against the previous round's areas. */
  protected List<ProcessScan> decode(TreeScan scan, ProcessScanner.Mode mode, ProcessScanner.Holes holes) {
    return scan.decode(previous, mode, holes);
  }

  /** Reader threads of the pagemap reads. */
  protected int pagemapThreads() {
    return pagemap.threads();
  }

  /** Builds the round's layouts (gone processes included) and remembers the areas. */
  protected List<ProcessLayout> layouts(List<ProcessScan> scans) {
    List<ProcessLayout> out = new ArrayList<>();
    Set<Integer> seen = new HashSet<>();
    Map<Integer, List<AddressRange>> next = new HashMap<>();
    for (ProcessScan s : scans) {
      seen.add(s.pid());
      out.add(new ProcessLayout(s.pid(), s.areas(), s.removed(), thpAreas(s)));
      next.put(s.pid(), s.areas());
    }
    for (Map.Entry<Integer, List<AddressRange>> gone : previous.entrySet()) {
      if (!seen.contains(gone.getKey())) {
        out.add(new ProcessLayout(gone.getKey(), List.of(), gone.getValue(), 0));
        processGone(gone.getKey());
      }
    }
    previous.clear();
    previous.putAll(next);
    return out;
  }

  /** Hook: a process of the tree is gone. */
  protected void processGone(int pid) {}

  private static int thpAreas(ProcessScan s) {
    try {
      Set<Long> thp = HugePageAreas.of(s.pid());
      int n = 0;
      for (AddressRange a : s.areas()) {
        if (thp.contains(a.start())) {
          n++;
        }
      }
      return n;
    } catch (TrackingException gone) {
      return 0;
    }
  }

  /** Hook: the copy of a round failed; the destination's state is unknown. */
  protected abstract void copyFailed();

  protected CapturedRound round(int number, Instant at, Duration freeze, List<ProcessScan> scans,
      List<ProcessLayout> layouts, PageFilter filter) {
    return new Round(number, at, freeze, scans, layouts, filter);
  }

  @Override
  public void close() {
    closed = true;
    pagemap.close();
  }

  private final class Round implements CapturedRound {
    private final int number;
    private final Instant at;
    private final Duration freeze;
    private final List<ProcessScan> scans;
    private final List<ProcessLayout> layouts;
    private final PageFilter filter;
    private boolean copied;

    Round(int number, Instant at, Duration freeze, List<ProcessScan> scans, List<ProcessLayout> layouts, PageFilter filter) {
      this.number = number;
      this.at = at;
      this.freeze = freeze;
      this.scans = scans;
      this.layouts = List.copyOf(layouts);
      this.filter = filter;
    }

    @Override
    public int round() {
      return number;
    }

    @Override
    public Instant capturedAt() {
      return at;
    }

    @Override
    public Duration freezeWindow() {
      return freeze;
    }

    @Override
    public List<ProcessLayout> processes() {
      return layouts;
    }

    @Override
    public CopyFigures copy(PageSink sink) throws TrackingException, InterruptedException {
      if (copied) {
        throw new IllegalStateException("round " + number + " was already copied");
      }
      copied = true;
      long t0 = System.nanoTime();
      copier.resetFigures();
      long total = 0;
      boolean ok = false;
      try {
        for (ProcessScan s : scans) {
          total += s.copyablePages();
          try {
            copier.copy(s.pid(), s.runs(), s.vdso(), filter, sink);
          } catch (TrackingException e) {
            if (s.pid() == root || e.reason() != TrackingException.Reason.PROCESS_EXITED) {
              throw e;
            }
          }
        }
        ok = true;
      } finally {
        if (!ok) {
          copyFailed();
        }
      }
      return new CopyFigures(copier.pagesOut(), copier.zeroPagesOut(), copier.bytesRead(), total,
          Duration.ofNanos(System.nanoTime() - t0));
    }
  }
}
