package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.MapsSnapshot;
import dev.ferry.agent.memory.ParallelPagemap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One capture's scan of a process tree, split so that a freeze holds nothing but kernel reads:
 * <ol>
 *   <li>{@link #plan} (before the freeze): read, parse and classify every process's maps; open
 *       the pagemap files and split the reads across threads;
 *   <li>{@link #revalidate} (inside): re-read each maps text and compare it byte for byte with
 *       the planned one; only a process whose layout changed meanwhile is parsed and re-planned
 *       there (rare: the cost moves into the window only when it must);
 *   <li>{@link #read} (inside): the raw pagemap entries of every planned area, in parallel;
 *   <li>{@link #decode} (after the thaw): entries classified into the round's page runs.
 * </ol>
 * The invariant the freeze protects holds: the entries are read while every thread is stopped,
 * and the caller clears the soft-dirty bits before the thaw, so no write falls between the two;
 * decoding later only interprets bytes already read.
 *
 * <p>Confined to the session thread.
 */
final class TreeScan implements AutoCloseable {
  private final int root;
  private final ParallelPagemap pagemap;
  private List<ProcessScanner.Plan> plans;
  private ParallelPagemap.Batch batch;
  private final Set<Integer> failed = new HashSet<>();
  private boolean replanned;

  private TreeScan(int root, ParallelPagemap pagemap, List<ProcessScanner.Plan> plans) throws TrackingException {
    this.root = root;
    this.pagemap = pagemap;
    this.plans = plans;
    this.batch = pagemap.prepare(targets(plans));
  }

  /**
   * Plans the scan of {@code pids} (root first). A descendant that exited is left out; the root
   * exiting is a PROCESS_EXITED error.
   */
  static TreeScan plan(int root, List<Integer> pids, ParallelPagemap pagemap) throws TrackingException {
    List<ProcessScanner.Plan> plans = new ArrayList<>();
    for (int pid : pids) {
      try {
        plans.add(ProcessScanner.Plan.of(MapsSnapshot.read(pid)));
      } catch (TrackingException e) {
        rethrowUnlessDescendantGone(root, pid, e);
      }
    }
    return new TreeScan(root, pagemap, plans);
  }

  private static void rethrowUnlessDescendantGone(int root, int pid, TrackingException e) throws TrackingException {
    if (pid == root || e.reason() != TrackingException.Reason.PROCESS_EXITED) {
      throw e;
    }
  }

  private static List<ParallelPagemap.Target> targets(List<ProcessScanner.Plan> plans) {
    List<ParallelPagemap.Target> out = new ArrayList<>();
    for (ProcessScanner.Plan p : plans) {
      out.add(new ParallelPagemap.Target(p.pid(), p.ranges()));
    }
    return out;
  }

  /**
   * Inside the freeze: keeps the plans of the processes that are frozen, re-reads their maps and
   * re-plans when any text changed or a process is gone.
   */
  void revalidate(List<Integer> frozen) throws TrackingException {
    List<ProcessScanner.Plan> next = new ArrayList<>();
    boolean changed = false;
    for (ProcessScanner.Plan p : plans) {
      if (!frozen.contains(p.pid())) {
        changed = true;
        continue;
      }
      MapsSnapshot now;
      try {
        now = p.maps().reread();
      } catch (TrackingException e) {
        rethrowUnlessDescendantGone(root, p.pid(), e);
        changed = true;
        continue;
      }
      if (now == p.maps()) {
        next.add(p);
      } else {
        next.add(ProcessScanner.Plan.of(now));
        changed = true;
      }
    }
    if (changed) {
      batch.close();
      plans = next;
      batch = pagemap.prepare(targets(plans));
      replanned = true;
    }
  }

  /** Whether {@link #revalidate} found a change and planned again inside the freeze. */
  boolean replanned() {
    return replanned;
  }

  /**
   * Reads the raw entries. A descendant that exited is left out of {@link #pids()} from now on;
   * the root failing, or any other failure, is thrown.
   */
  void read() throws TrackingException, InterruptedException {
    batch.read();
    for (int i = 0; i < plans.size(); i++) {
      TrackingException e = batch.failure(i);
      if (e != null) {
        rethrowUnlessDescendantGone(root, plans.get(i).pid(), e);
        failed.add(plans.get(i).pid());
      }
    }
  }

  /** The processes scanned successfully (those whose soft-dirty bits the round clears). */
  List<Integer> pids() {
    List<Integer> out = new ArrayList<>();
    for (ProcessScanner.Plan p : plans) {
      if (!failed.contains(p.pid())) {
        out.add(p.pid());
      }
    }
    return out;
  }

  /** After the thaw: the round's selection per process, from the entries read. */
  List<ProcessScan> decode(Map<Integer, List<AddressRange>> previous, ProcessScanner.Mode mode,
      ProcessScanner.Holes holes) {
    List<ProcessScan> out = new ArrayList<>();
    for (int i = 0; i < plans.size(); i++) {
      ProcessScanner.Plan p = plans.get(i);
      if (failed.contains(p.pid())) {
        continue;
      }
      int target = i;
      out.add(ProcessScanner.decode(p, j -> batch.entries(target, j), previous.get(p.pid()), mode, holes));
    }
    return out;
  }

  @Override
  public void close() {
    batch.close();
  }
}
