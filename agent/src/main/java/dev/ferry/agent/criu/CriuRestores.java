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
      ParentSnapshot held = parent.link(work.resolve("parent"), BootClock.uptime());
      long linked = System.nanoTime() - t0;
      Restorer.Result r;
      java.time.Duration checked;
      // The parent check runs while CRIU restores (off the downtime's critical path); the Restore
      // reply, and so the commit, waits for it; a failed check kills the stopped copy.
      try (BackgroundCheck check = BackgroundCheck.start("parent-check-" + id, () -> parent.checkFinal(Restorer.finalDir(work)))) {
        r = restorer.restore(work, held);
        try {
          checked = check.await();
        } catch (CriuFailure | InterruptedException f) {
          restorer.kill(r.restored()); // never left behind unrecorded
          throw f;
        }
      }
      restored.put(id, r.restored());
      log.info("migration {}: restored as pid {} (stopped): parent linked to the store's page layout in {} ms, criu restore {} ms,"
          + " parent check {} ms (alongside the restore)", id, r.restored().pid(), TimeUnit.NANOSECONDS.toMillis(linked),
          r.restoreTime().toMillis(), checked.toMillis());
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
    ProcessTree.Identity r = restored.remove(migrationId);
    if (r != null && restorer.kill(r)) {
      log.info("migration {}: restored copy {} killed (rollback)", migrationId, r.pid());
    }
  }
}
