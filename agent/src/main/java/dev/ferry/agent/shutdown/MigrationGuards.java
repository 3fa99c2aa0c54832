package dev.ferry.agent.shutdown;

import dev.ferry.service.systemd.GracefulShutdown;
import dev.ferry.service.systemd.RollbackHook;
import dev.ferry.service.systemd.RollbackJournal;
import dev.ferry.service.systemd.ShutdownInProgressException;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects the agent's migrations to the daemon's stop sequence: each migration the agent takes
 * part in holds a {@link Guard} from start to end. The guard registers a {@link RollbackHook}
 * with the {@link GracefulShutdown} (SIGTERM undoes what has not committed) and, once a process
 * is involved, records it in the {@link RollbackJournal} (a kill -9 leaves a record the next run
 * settles). Built without either ({@link #none}), guards do nothing: tests and embedded agents.
 *
 * <p>Thread safety: guards may be opened, updated and closed from any thread.
 */
public final class MigrationGuards {
  private static final Logger log = LoggerFactory.getLogger(MigrationGuards.class);

  private final GracefulShutdown shutdown;
  private final RollbackJournal journal;

  public MigrationGuards(GracefulShutdown shutdown, RollbackJournal journal) {
    this.shutdown = shutdown;
    this.journal = journal;
  }

  /** Guards that do nothing (no stop sequence, no journal). */
  public static MigrationGuards none() {
    return new MigrationGuards(null, null);
  }

  /** Whether the stop sequence has begun (new work is refused from then on). */
  public boolean stopping() {
    return shutdown != null && shutdown.stopping();
  }

  /** The journal this agent writes, if any (its leftovers are the previous run's). */
  public RollbackJournal journal() {
    return journal;
  }

  /**
   * Opens the guard of one side of one migration ({@code key} = role + migration id, unique on
   * this agent). {@code hook} runs on SIGTERM while the guard is open.
   *
   * @throws StatusException UNAVAILABLE once the agent is stopping: the work must not start
   */
  public Guard open(String key, RollbackHook hook) throws StatusException {
    Guard guard = new Guard(key);
    if (shutdown != null) {
      try {
        guard.registration = shutdown.register(key, hook);
      } catch (ShutdownInProgressException stopping) {
        throw Status.UNAVAILABLE.withDescription("agent is stopping: " + key + " not started").asException();
      }
    }
    return guard;
  }

  /** One side of one migration, from its start to its end. Close it when the migration ends here. */
  public final class Guard implements AutoCloseable {
    private final String key;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private GracefulShutdown.Registration registration;
    /** Guarded by this. */
    private RollbackJournal.Entry entry;
    /** Guarded by this. */
    private boolean keep;

    private Guard(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }

    /**
     * Records (or re-records, e.g. with a new phase) that process {@code pid} is held by this
     * migration, so that a restarted agent settles it if this one is killed.
     *
     * @throws StatusException INTERNAL if the record cannot be written: do not touch the process then
     */
    public synchronized void record(long pid, Map<String, String> details) throws StatusException {
      if (journal == null || ended.isDone()) {
        return;
      }
      try {
        entry = journal.record(key, pid, new LinkedHashMap<>(details));
      } catch (IOException e) {
        throw Status.INTERNAL.withDescription(key + ": cannot write the rollback record: " + e.getMessage()).asException();
      }
    }

    /** Whether the migration has ended here ({@link #close} or {@link #keepForNextRun}). */
    public boolean ended() {
      return ended.isDone();
    }

    /**
     * Waits until the migration ends here (another thread closes the guard), at most {@code timeout}.
     *
     * @return false on timeout
     */
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
      try {
        ended.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
        return true;
      } catch (TimeoutException e) {
        return false;
      } catch (ExecutionException e) {
        return true;
      }
    }

    /**
     * Ends the guard but keeps its journal record: the process stays as it is and the next run
     * of the agent (or the coordinator, through it) settles it.
     */
    public void keepForNextRun() {
      synchronized (this) {
        keep = true;
      }
      close();
    }

    /** The migration has ended here (committed, rolled back, finished): forget it. Idempotent. */
    @Override
    public void close() {
      RollbackJournal.Entry toClose;
      synchronized (this) {
        toClose = keep ? null : entry;
        entry = null;
      }
      if (registration != null) {
        registration.close();
      }
      if (toClose != null) {
        try {
          toClose.close();
        } catch (IOException e) {
          log.warn("{}: could not remove its rollback record ({}); the next run will find it settled", key, e.toString());
        }
      }
      ended.complete(null);
    }
  }
}
