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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination agent's switch-over through CRIU, in the migration's store directory: the
 * received {@code final/} (transfer.ImageReceiver puts it there), {@code parent/} laid out from
 * the store's pages, then {@code criu restore --restore-detached --leave-stopped}.
 *
 * <p>The parent pages (the bulk of the work: the whole memory read from the store and written
 * out) are laid out in the background from {@link #prepare}, i.e. while the source dumps, not
 * after the freeze. The restored tree is remembered by migration id (pid + start time) and stays stopped until
 * {@link #resume} (after the commit) or {@link #killRestored} (rollback). Thread-safe.
 */
public final class CriuRestores implements RestoreHandler {
  private static final Logger log = LoggerFactory.getLogger(CriuRestores.class);

  private final Restorer restorer;
  private final ConcurrentMap<String, ProcessTree.Identity> restored = new ConcurrentHashMap<>();
  /** Resumed ones: ResumeRestored is retried after a failover and must answer the same. */
  private final ConcurrentMap<String, ProcessTree.Identity> resumed = new ConcurrentHashMap<>();

  private final ExecutorService background;
  /** Parent layouts started by {@link #prepare} (while the source dumps), by migration id. */
  private final ConcurrentMap<String, Preparation> preparations = new ConcurrentHashMap<>();

  /** @param background runs the parent layouts {@link #prepare} starts */
  public CriuRestores(Restorer restorer, ExecutorService background) {
    this.restorer = restorer;
    this.background = background;
  }

  /** The parent of a migration as laid out from its store. */
  private record Parent(ParentSnapshot held, Duration layout) {}

  /** A background layout; {@code finished} counts down when its task ends, whatever the outcome. */
  private record Preparation(Future<Parent> result, CountDownLatch finished) {}

  @Override
  public void prepare(PageStore store) {
    String id = store.migrationId();
    preparations.computeIfAbsent(id, k -> {
      CountDownLatch finished = new CountDownLatch(1);
      try {
        Future<Parent> f = background.submit(() -> {
          try {
            Parent p = layOut(store);
            log.info("migration {}: parent pages laid out in {} ms while the source dumps", id, p.layout().toMillis());
            return p;
          } finally {
            finished.countDown();
          }
        });
        return new Preparation(f, finished);
      } catch (RejectedExecutionException e) { // shutting down: Restore will lay it out itself
        finished.countDown();
        return null;
      }
    });
  }

  private Parent layOut(PageStore store) throws CriuFailure, IOException {
    StoreParentPages pages = new StoreParentPages(store);
    ParentSnapshot held = pages.snapshot(BootClock.uptime());
    return new Parent(held, restorer.prepareParent(store.directory(), held, pages));
  }

  /** The parent {@link #prepare} laid out, or laid out now (no prepare, or it failed). */
  private Parent parent(PageStore store) throws CriuFailure, IOException, InterruptedException {
    Preparation p = preparations.remove(store.migrationId());
    if (p != null) {
      try {
        return p.result().get();
      } catch (ExecutionException | java.util.concurrent.CancellationException e) {
        log.warn("migration {}: laying out the parent in the background failed ({}); again now", store.migrationId(),
            e.getCause() != null ? e.getCause().toString() : e.toString());
      }
    }
    return layOut(store);
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
      Parent parent = parent(store);
      long waited = System.nanoTime() - t0;
      Restorer.Result r = restorer.restore(work, parent.held());
      restored.put(id, r.restored());
      log.info("migration {}: restored as pid {} (stopped): parent pages laid out in {} ms ({} ms of it after the freeze),"
          + " criu restore {} ms", id, r.restored().pid(), parent.layout().toMillis(), TimeUnit.NANOSECONDS.toMillis(waited),
          r.restoreTime().toMillis());
      return RestoreReply.newBuilder().setRestoredPid(r.restored().pid())
          .setRestoreMicros(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0)).build();
    } catch (CriuFailure f) {
      log.warn("migration {}: restore failed: {}", id, f.describe());
      throw f.toStatus().asException();
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("migration " + id + ": cannot read the boot clock: " + e.getMessage()).asException();
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
    return ResumeRestoredReply.newBuilder().setPid(r.pid()).build();
  }

  @Override
  public void killRestored(String migrationId) {
    Preparation p = preparations.remove(migrationId);
    if (p != null) { // the store is deleted next: stop writing into it first
      p.result().cancel(true);
      try {
        if (!p.finished().await(30, TimeUnit.SECONDS)) {
          log.warn("migration {}: the background parent layout did not stop within 30 s", migrationId);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    ProcessTree.Identity r = restored.remove(migrationId);
    if (r != null && restorer.kill(r)) {
      log.info("migration {}: restored copy {} killed (rollback)", migrationId, r.pid());
    }
  }
}
