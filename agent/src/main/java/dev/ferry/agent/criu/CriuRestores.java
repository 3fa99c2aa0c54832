package dev.ferry.agent.criu;

import dev.ferry.agent.destination.RestoreHandler;
import dev.ferry.agent.store.PageStore;
import dev.ferry.proto.RestoreReply;
import dev.ferry.proto.ResumeRestoredReply;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination agent's switch-over through CRIU, in the migration's store directory: the
 * received {@code final/} (transfer.ImageReceiver puts it there), {@code parent/} laid out from
 * the store's pages, then {@code criu restore --restore-detached --leave-stopped}.
 *
 * <p>The parent pages are not copied: the store keeps them laid out by address round by round
 * (a store opened by {@code PageStores(.., mirrored=true)}), and {@code parent/} links to that
 * layout ({@link StoreParent}). The restored tree is remembered by migration id (pid + start time) and stays stopped until
 * {@link #resume} (after the commit) or {@link #killRestored} (rollback). Thread-safe.
 */
public final class CriuRestores implements RestoreHandler {
  private static final Logger log = LoggerFactory.getLogger(CriuRestores.class);

  private final Restorer restorer;
  private final ConcurrentMap<String, ProcessTree.Identity> restored = new ConcurrentHashMap<>();
  /** Lazy-pages daemons of restored copies, until they have served every page (see {@link LazyPages}). */
  private final ConcurrentMap<String, LazyPages.Daemon> lazyPages = new ConcurrentHashMap<>();
  /** Parent links started by {@link #prepare}, taken by {@link #restore}. */
  private final ConcurrentMap<String, BackgroundWork<ParentSnapshot>> linking = new ConcurrentHashMap<>();
  /** Resumed ones: ResumeRestored is retried after a failover and must answer the same. */
  private final ConcurrentMap<String, ProcessTree.Identity> resumed = new ConcurrentHashMap<>();

  public CriuRestores(Restorer restorer) {
    this.restorer = restorer;
  }

  @Override
  public RestoreReply restore(PageStore store) throws StatusException, InterruptedException {
    String id = store.migrationId();
    ProcessTree.Identity done = restored.get(id);
    if (done != null) { // a retried Restore: the stopped copy exists already
      return RestoreReply.newBuilder().setRestoredPid(done.pid()).build();
    }
    Path work = store.directory();
    if (!Files.isDirectory(Restorer.finalDir(work))) {
      throw Status.FAILED_PRECONDITION.withDescription("migration " + id + ": no final images were received in "
          + Restorer.finalDir(work) + " (PushImages first)").asException();
    }
    long t0 = System.nanoTime();
    try {
      StoreParent parent = new StoreParent(store);
      ParentSnapshot held = linked(id, parent, work);
      long linked = System.nanoTime() - t0;
      // The parent check runs while CRIU restores; the Restore reply, and so the commit, waits for it.
      Restorer.Checked c = restorer.restoreChecked(work, held, parent, "parent-check-" + id);
      Restorer.Result r = c.result();
      Duration checked = c.checkTime();
      restored.put(id, r.restored());
      if (r.lazyPages().isPresent()) { // not a lambda on the downtime's path: see FlatTop.ParentSeen
        lazyPages.put(id, r.lazyPages().get());
      }
      log.info("migration {}: restored as pid {} (stopped): parent link awaited {} ms, criu restore {} ms,"
          + " parent check {} ms (alongside the restore){}; {}; steps: {}", id, r.restored().pid(), TimeUnit.NANOSECONDS.toMillis(linked),
          r.restoreTime().toMillis(), checked.toMillis(), r.lazyPages().isPresent() ? ", pages served lazily" : "",
          r.layering().describe(), r.steps().describe());
      return RestoreReply.newBuilder().setRestoredPid(r.restored().pid())
          .setRestoreMicros(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0)).build();
    } catch (CriuFailure f) {
      log.warn("migration {}: restore failed: {}", id, f.describe());
      throw f.toStatus().asException();
    }
  }

  /**
   * The final image stream opened (the source dumps now): link the parent to the store's layout
   * meanwhile, on its own thread (a stale layout is rebuilt: seconds), not in the downtime.
   */
  @Override
  public void prepare(PageStore store) {
    String id = store.migrationId();
    Path parentDir = store.directory().resolve("parent");
    linking.computeIfAbsent(id, k -> BackgroundWork.start("parent-link-" + id, () -> {
      ParentSnapshot linked = new StoreParent(store).link(parentDir, uptime());
      FlatTop.warmUp(store.directory().resolve("flat-warm-up")); // the flat layer's first build, cold, cost seconds emulated
      return linked;
    }));
  }

  /** The parent linked by {@link #prepare}, or linked now if it was not (or failed there). */
  private ParentSnapshot linked(String id, StoreParent parent, Path work) throws CriuFailure, InterruptedException {
    BackgroundWork<ParentSnapshot> prepared = linking.remove(id);
    if (prepared != null) {
      try {
        return prepared.await();
      } catch (CriuFailure f) {
        log.warn("migration {}: linking the parent while the source dumped failed, again now: {}", id, f.describe());
      }
    }
    return parent.link(work.resolve("parent"), uptime());
  }

  private static Duration uptime() throws CriuFailure {
    try {
      return BootClock.uptime();
    } catch (IOException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot read the boot clock: " + e.getMessage(), e);
    }
  }

  @Override
  public ResumeRestoredReply resume(String migrationId) throws StatusException {
    ProcessTree.Identity r = restored.remove(migrationId);
    if (r == null) {
      r = resumed.get(migrationId);
      if (r == null) {
        throw Status.NOT_FOUND.withDescription("migration " + migrationId + " has no restored process on this agent")
            .asException();
      }
    } else {
      resumed.put(migrationId, r);
    }
    if (!restorer.resume(r) && !restorer.alive(r)) {
      throw Status.DATA_LOSS.withDescription("migration " + migrationId + ": the restored process " + r.pid()
          + " is gone").asException();
    }
    log.info("migration {}: restored pid {} resumed", migrationId, r.pid());
    watchLazyPages(migrationId, r);
    return ResumeRestoredReply.newBuilder().setPid(r.pid()).build();
  }

  /**
   * After the commit the restored copy runs on pages the daemon has not copied yet: if it exits
   * non-zero (or is killed) those pages would read as zeros, so the copy is killed, loudly. The
   * source copy is gone by then: the migrated process is lost (DATA_LOSS). Exit 0: all copied.
   */
  private void watchLazyPages(String id, ProcessTree.Identity copy) {
    LazyPages.Daemon d = lazyPages.get(id);
    if (d == null) {
      return;
    }
    d.onExit(() -> {
      if (d.exitCode() == 0) {
        log.info("migration {}: lazy pages all served (criu lazy-pages exited 0)", id);
      } else {
        restorer.kill(copy);
        log.error("migration {}: DATA_LOSS: criu lazy-pages exited {} before serving every page of the restored process {};"
            + " it would have read zero pages there and was killed. Log tail:\n{}", id, d.exitCode(), copy.pid(), d.logTail());
      }
    });
  }

  /**
   * Waits (up to {@code within}) until the lazy-pages daemon of {@code migrationId}, if any, has
   * served every page and exited: the images and the store must be kept until then.
   */
  @Override
  public void awaitPagesServed(String migrationId, Duration within) throws InterruptedException {
    LazyPages.Daemon d = lazyPages.remove(migrationId);
    if (d != null && !d.awaitServed(within)) {
      log.warn("migration {}: criu lazy-pages {} within {} s", migrationId,
          d.running() ? "still runs" : "exited " + d.exitCode(), within.toSeconds());
    }
  }

  @Override
  public void killRestored(String migrationId) {
    BackgroundWork<ParentSnapshot> prepared = linking.remove(migrationId);
    if (prepared != null) {
      prepared.close();
    }
    LazyPages.Daemon d = lazyPages.remove(migrationId);
    if (d != null) {
      d.close(); // rollback: the copy it served is killed below
    }
    ProcessTree.Identity r = restored.remove(migrationId);
    if (r != null && restorer.kill(r)) {
      log.info("migration {}: restored copy {} killed (rollback)", migrationId, r.pid());
    }
  }
}
