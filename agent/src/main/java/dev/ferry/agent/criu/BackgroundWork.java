package dev.ferry.agent.criu;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Switch-over work moved off the downtime's critical path onto its own thread, with the same
 * failure contract as if it ran inline: {@link #await} returns its result or throws its
 * CriuFailure. Two uses on the destination:
 * <ul>
 *   <li>{@link StoreParent#checkFinal} (every page the final dump takes from the parent is held)
 *       runs while {@code criu restore} runs (~1 s emulated, was before it). Safe because the
 *       restored copy stays stopped until the commit, the commit waits for the Restore reply, and
 *       the reply waits for the check: a failed check kills the stopped copy and fails the Restore
 *       (rollback) exactly as a check before the restore would have.</li>
 *   <li>{@link StoreParent#link} (the parent linked to the store's layout; a stale layout is rebuilt)
 *       starts when the final image stream opens, while the source dumps: no round changes the
 *       store any more by then.</li>
 * </ul>
 *
 * <p>One use: {@link #start}, then {@link #await} or {@link #close} (which abandons the work).
 */
public final class BackgroundWork<T> implements AutoCloseable {
  /** The work: throws CriuFailure when what it does or checks fails. */
  @FunctionalInterface
  public interface Work<T> {
    T run() throws CriuFailure;
  }

  private final FutureTask<T> task;
  private volatile Duration elapsed = Duration.ZERO;

  private BackgroundWork(Work<T> work) {
    this.task = new FutureTask<>(() -> {
      long t0 = System.nanoTime();
      try {
        return work.run();
      } finally {
        elapsed = Duration.ofNanos(System.nanoTime() - t0);
      }
    });
  }

  /** Starts {@code work} on a new daemon thread named {@code name}. */
  public static <T> BackgroundWork<T> start(String name, Work<T> work) {
    BackgroundWork<T> w = new BackgroundWork<>(work);
    Thread t = new Thread(w.task, name);
    t.setDaemon(true);
    t.start();
    return w;
  }

  /**
   * Waits for the work; returns its result or throws its failure (an unexpected exception
   * becomes an IO_ERROR failure naming it).
   */
  public T await() throws CriuFailure, InterruptedException {
    try {
      return task.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof CriuFailure f) {
        throw f;
      }
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "switch-over work failed: " + cause, cause);
    } catch (CancellationException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "switch-over work was abandoned", e);
    }
  }

  /** How long the work ran (once {@link #await} returned). */
  public Duration elapsed() {
    return elapsed;
  }

  /** Abandons the work if it still runs. Idempotent. */
  @Override
  public void close() {
    task.cancel(true);
  }
}
