package dev.ferry.agent.destination;

import dev.ferry.agent.recovery.LeftoverVerdict;
import dev.ferry.agent.recovery.RestoredOrphans;
import dev.ferry.agent.shutdown.MigrationGuards;
import dev.ferry.agent.source.Signals;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.StoreException;
import dev.ferry.agent.transfer.StoreStatuses;
import dev.ferry.agent.transfer.StreamTokens;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.DiscardReply;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PrepareReceiveReply;
import dev.ferry.proto.PrepareReceiveRequest;
import dev.ferry.proto.RestoreReply;
import dev.ferry.service.systemd.ProcessIdentity;
import dev.ferry.proto.ResumeRestoredReply;
import dev.ferry.proto.StoreStatusReply;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The DestinationAgent service: page stores and (through the seam) restore. */
public final class DestinationAgentService extends DestinationAgentGrpc.DestinationAgentImplBase {
  private static final Logger log = LoggerFactory.getLogger(DestinationAgentService.class);
  /** How long the store is kept after the resume for CRIU's lazy-pages daemon to serve the last pages. */
  private static final java.time.Duration LAZY_PAGES_SERVED = java.time.Duration.ofMinutes(10);

  private final PageStores stores;
  /** Shortest stream token PrepareReceive arms (dev.ferry.service.auth.StreamToken.generate() makes 32 bytes). */
  public static final int MIN_TOKEN_BYTES = 16;

  private final StreamTokens tokens;
  private final RestoreHandler restores;
  private final ExecutorService workers;
  private final MigrationGuards guards;
  private final Signals signals = new Signals();
  /** Restores from their start until the coordinator resumes or discards the copy (or the stop ends them). */
  private final ConcurrentMap<String, RestoreRun> restoring = new ConcurrentHashMap<>();
  /** Restored copies a previous run of this agent left stopped, by migration id. */
  private final ConcurrentMap<String, Adopted> adopted = new ConcurrentHashMap<>();

  /** A process from the rollback journal; {@code settled} removes its record once the coordinator has decided. */
  private record Adopted(ProcessIdentity process, Runnable settled) {}

  /**
   * One restore: {@code replied} once the coordinator has been told the copy exists (from then on
   * it may commit at any moment); {@code stopRequested} when SIGTERM came before that.
   */
  private static final class RestoreRun {
    final MigrationGuards.Guard guard;
    boolean replied; // guarded by this
    boolean stopRequested; // guarded by this

    RestoreRun(MigrationGuards.Guard guard) {
      this.guard = guard;
    }
  }

  public DestinationAgentService(PageStores stores, StreamTokens tokens, RestoreHandler restores, ExecutorService workers) {
    this(stores, tokens, restores, workers, MigrationGuards.none());
  }

  public DestinationAgentService(PageStores stores, StreamTokens tokens, RestoreHandler restores, ExecutorService workers,
      MigrationGuards guards) {
    this.guards = guards;
    this.stores = stores;
    this.tokens = tokens;
    this.restores = restores;
    this.workers = workers;
  }

  @Override
  public void prepareReceive(PrepareReceiveRequest request, StreamObserver<PrepareReceiveReply> response) {
    String id = request.getMigrationId();
    try {
      if (request.getStreamToken().size() < MIN_TOKEN_BYTES) {
        // A short token is guessable by any agent certificate holder; the coordinator issues 32 random bytes.
        throw Status.INVALID_ARGUMENT.withDescription("stream_token must be at least " + MIN_TOKEN_BYTES
            + " random bytes, got " + request.getStreamToken().size()).asException();
      }
      long free = stores.usableBytes();
      if (request.getExpectedBytes() > 0 && request.getExpectedBytes() > free) {
        throw Status.FAILED_PRECONDITION.withDescription(String.format(
            "migration %s needs about %d MiB but only %d MiB are free under %s",
            id, request.getExpectedBytes() >> 20, free >> 20, stores.root())).asException();
      }
      PageStores.Opened opened = stores.openOrCreate(id);
      tokens.arm(id, request.getStreamToken(), request.getSourceHost());
      log.info("migration {}: ready to receive from {} ({} store, {} pages)", id, request.getSourceHost(),
          opened.reopened() ? "reopened" : "new", opened.store().status().pages());
      response.onNext(PrepareReceiveReply.newBuilder().setReopened(opened.reopened())
          .setPagesHeld(opened.store().status().pages()).build());
      response.onCompleted();
    } catch (StoreException e) {
      response.onError(StoreStatuses.of(e).asException());
    } catch (StatusException e) {
      response.onError(e);
    }
  }

  @Override
  public void storeStatus(MigrationRef request, StreamObserver<StoreStatusReply> response) {
    PageStore store = stores.get(request.getMigrationId()).orElse(null);
    if (store == null) {
      response.onError(Status.NOT_FOUND.withDescription("no page store for migration " + request.getMigrationId() + " is open here").asException());
      return;
    }
    PageStore.Status s = store.status();
    response.onNext(StoreStatusReply.newBuilder().setPages(s.pages()).setBytesOnDisk(s.bytesOnDisk())
        .setDigest(s.digestHex()).setLastRound(s.lastRound()).build());
    response.onCompleted();
  }

  @Override
  public void discard(MigrationRef request, StreamObserver<DiscardReply> response) {
    String id = request.getMigrationId();
    try {
      restores.killRestored(id);
      ProcessIdentity left = settle(adopted.remove(id));
      if (left != null && left.alive()) {
        signals.send((int) left.pid(), Signals.SIGKILL);
      }
      endRun(id);
      tokens.disarm(id);
      stores.discard(id);
      log.info("migration {}: page store and images discarded (rollback{})", id, left != null ? ", restored copy "
          + left.pid() + " left by a previous run killed" : "");
      response.onNext(DiscardReply.getDefaultInstance());
      response.onCompleted();
    } catch (StoreException e) {
      response.onError(StoreStatuses.of(e).asException());
    }
  }

  @Override
  public void restore(MigrationRef request, StreamObserver<RestoreReply> response) {
    // From the switch-over on, no page or image stream may change the store: a replayed or late
    // stream after restore (and the commit that follows) is refused as an unarmed token.
    tokens.disarm(request.getMigrationId());
    PageStore store = stores.get(request.getMigrationId()).orElse(null);
    if (store == null) {
      response.onError(Status.NOT_FOUND.withDescription("no page store for migration " + request.getMigrationId()).asException());
      return;
    }
    String id = request.getMigrationId();
    RestoreRun run;
    try {
      run = new RestoreRun(guards.open("destination-" + id, remaining -> discardOnStop(id, remaining)));
    } catch (StatusException e) {
      response.onError(e);
      return;
    }
    RestoreRun earlier = restoring.put(id, run);
    if (earlier != null) {
      earlier.guard.close();
    }
    workers.execute(Context.current().wrap(() -> {
      try {
        markRestoreBegun(store);
        RestoreReply reply = restores.restore(store);
        synchronized (run) {
          if (run.stopRequested) {
            // SIGTERM before the coordinator heard of the copy: it cannot have committed; discard
            restores.killRestored(id);
            throw Status.UNAVAILABLE.withDescription("migration " + id + ": the agent is stopping; the restored copy was discarded")
                .asException();
          }
          run.guard.record(reply.getRestoredPid(), Map.of("role", "destination", "migration", id, "phase", "restored"));
          run.replied = true;
        }
        response.onNext(reply);
        response.onCompleted();
      } catch (StatusException e) {
        endRun(id);
        response.onError(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        endRun(id);
        response.onError(Status.CANCELLED.withDescription("interrupted").asException());
      }
    }));
  }

  /**
   * Adopts a restored copy a previous run of this agent left stopped (from the rollback journal):
   * the coordinator's ResumeRestored (it committed) or Discard (it rolled back) then acts on it.
   */
  public void adopt(String migrationId, ProcessIdentity process, Runnable settled) {
    adopted.put(migrationId, new Adopted(process, settled));
  }

  private static ProcessIdentity settle(Adopted a) {
    if (a == null) {
      return null;
    }
    a.settled().run();
    return a.process();
  }

  private void endRun(String id) {
    RestoreRun run = restoring.remove(id);
    if (run != null) {
      run.guard.close();
    }
  }

  /**
   * SIGTERM during a restore. Before the coordinator hears of the copy it cannot commit: the
   * restore's end discards the copy and answers UNAVAILABLE (the coordinator rolls back). Once it
   * has heard, the commit in ZooKeeper decides: keep serving until it resumes (committed) or
   * discards the copy; if it does neither before the deadline, the copy stays stopped and is
   * recorded for the next run, which adopts it.
   */
  private void discardOnStop(String id, Duration remaining) throws Exception {
    RestoreRun run = restoring.get(id);
    if (run == null) {
      return;
    }
    long start = System.nanoTime();
    boolean replied;
    synchronized (run) {
      replied = run.replied;
      run.stopRequested = !replied;
    }
    if (replied) {
      log.warn("migration {}: stopping after its restore; the copy stays stopped until the coordinator commits or rolls back", id);
    }
    if (!run.guard.awaitEnd(remaining.minusNanos(System.nanoTime() - start).minusSeconds(2))) {
      restoring.remove(id, run);
      run.guard.keepForNextRun();
      throw new IllegalStateException("migration " + id + ": no commit or rollback from the coordinator before the stop deadline;"
          + " the restored copy is left stopped, recorded for the next run");
    }
    if (!replied) {
      log.info("migration {}: rolled back on stop: the restored copy was discarded", id);
    }
  }

  @Override
  public void resumeRestored(MigrationRef request, StreamObserver<ResumeRestoredReply> response) {
    try {
      ProcessIdentity left = settle(adopted.remove(request.getMigrationId()));
      ResumeRestoredReply reply;
      if (left != null) {
        if (!left.alive() || !signals.send((int) left.pid(), Signals.SIGCONT)) {
          throw Status.DATA_LOSS.withDescription("migration " + request.getMigrationId() + ": the restored copy (pid "
              + left.pid() + ") a previous run of this agent left is gone").asException();
        }
        reply = ResumeRestoredReply.newBuilder().setPid((int) left.pid()).build();
      } else {
        reply = restores.resume(request.getMigrationId());
      }
      // committed and running: nothing is left to undo here
      endRun(request.getMigrationId());
      response.onNext(reply);
      response.onCompleted();
      discardAfterCommit(request.getMigrationId());
    } catch (StatusException e) {
      response.onError(e);
    }
  }

  /**
   * The commit has been acted on (the restored copy runs): its pages and images are of no use any
   * more. Deleted on a worker (a store of GiBs takes a while), after the reply. A retried
   * ResumeRestored answers from what the restore handler remembers, not from the store.
   */
  private void discardAfterCommit(String id) {
    try {
      workers.execute(() -> {
        try {
          restores.awaitPagesServed(id, LAZY_PAGES_SERVED);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return; // agent stopping: the store is removed at the next start
        }
        discardStore(id, "the restored copy runs (committed)");
      });
    } catch (java.util.concurrent.RejectedExecutionException stopping) {
      log.info("migration {}: agent stopping; its page store is removed at the next start", id);
    }
  }

  private void discardStore(String id, String why) {
    try {
      if (stores.get(id).isPresent() || java.nio.file.Files.isDirectory(stores.directoryOf(id))) {
        stores.discard(id);
        log.info("migration {}: page store and images discarded: {}", id, why);
      }
    } catch (StoreException e) {
      log.warn("migration {}: could not discard its page store: {}", id, e.getMessage());
    }
  }

  /** Before CRIU runs: lets a restarted agent tell its restored copy from a process that reused the pid. */
  private static void markRestoreBegun(PageStore store) throws StatusException {
    try {
      RestoredOrphans.markBegun(store.directory());
    } catch (java.io.IOException e) {
      throw Status.INTERNAL.withDescription("migration " + store.migrationId() + ": cannot write "
          + RestoredOrphans.BEGUN + " in " + store.directory() + ": " + e.getMessage()).asException();
    }
  }

  /** Migrations whose restored copy a previous run left (journal or orphan scan), not yet settled. */
  public java.util.Set<String> adoptedMigrations() {
    return java.util.Set.copyOf(adopted.keySet());
  }

  /**
   * Settles an adopted copy by the migration's record ({@link LeftoverVerdict}), unless the
   * coordinator's ResumeRestored or Discard took it first (whoever removes it acts). RESUME and
   * KILL also discard the store: either way its pages are of no use any more.
   *
   * @return false if there was nothing (left) to settle or the verdict is to wait or keep
   */
  public boolean settleAdopted(String id, LeftoverVerdict verdict) {
    if (verdict.action() != LeftoverVerdict.Action.RESUME && verdict.action() != LeftoverVerdict.Action.KILL) {
      return false;
    }
    ProcessIdentity left = settle(adopted.remove(id));
    if (left == null) {
      return false;
    }
    boolean alive = left.alive();
    if (verdict.action() == LeftoverVerdict.Action.RESUME) {
      boolean resumed = alive && signals.send((int) left.pid(), Signals.SIGCONT);
      log.warn("migration {}: restored copy {} left by a previous run {}: {}", id, left.pid(),
          resumed ? "resumed" : "is gone, NOT resumed", verdict.reason());
    } else {
      boolean killed = alive && signals.send((int) left.pid(), Signals.SIGKILL);
      log.warn("migration {}: restored copy {} left by a previous run {}: {}", id, left.pid(),
          killed ? "killed" : "was already gone", verdict.reason());
    }
    discardStore(id, "settled after a restart");
    return true;
  }
}
