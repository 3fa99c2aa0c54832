package dev.ferry.agent.criu;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * A check that guards a restore, run on its own thread while {@code criu restore} runs instead
 * of before it: {@link StoreParent#checkFinal} (every page the final dump takes from the parent is
 * held by the store) cost ~1 s emulated on the switch-over's critical path.
 *
 * <p>Safe because the restored copy stays stopped until the commit, and the commit waits for the
 * Restore reply, which waits for {@link #await}: a failed check kills the stopped copy and fails
 * the Restore (rollback) exactly as a check before the restore would have; nothing ever runs on
 * pages the check did not pass.
 *
 * <p>One use: {@link #start}, then {@link #await} or {@link #close} (which abandons the check:
 * the restore failed anyway). The check must not need the restore's result.
 */
public final class BackgroundCheck implements AutoCloseable {
  /** The guarded work: throws CriuFailure when what it checks is wrong. */
  @FunctionalInterface
  public interface Check {
    void run() throws CriuFailure;
  }

  private final FutureTask<Duration> task;

  private BackgroundCheck(Check check) {
    this.task = new FutureTask<>(() -> {
      long t0 = System.nanoTime();
      check.run();
      return Duration.ofNanos(System.nanoTime() - t0);
    });
  }

  /** Starts {@code check} on a new daemon thread named {@code name}. */
  public static BackgroundCheck start(String name, Check check) {
    BackgroundCheck c = new BackgroundCheck(check);
    Thread t = new Thread(c.task, name);
    t.setDaemon(true);
    t.start();
    return c;
  }

  /**
   * Waits for the check; returns how long it ran, or throws its failure (an unexpected exception
   * becomes an IO_ERROR failure naming it).
   */
  public Duration await() throws CriuFailure, InterruptedException {
    try {
      return task.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof CriuFailure f) {
        throw f;
      }
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "the check before the commit failed: " + cause, cause);
    } catch (CancellationException e) {
      throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "the check before the commit was abandoned", e);
    }
  }

  /** Abandons the check if it still runs (the restore it guarded failed). Idempotent. */
  @Override
  public void close() {
    task.cancel(true);
  }
}
