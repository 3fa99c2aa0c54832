package dev.ferry.agent.source;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Auto-converge by duty cycle: every 100 ms period the process is stopped (SIGSTOP) for
 * {@code percent} of it, then continued. Used where the process has no cgroup of its own.
 * Thread-safe; {@link #set}(0) and {@link #close} always leave the process continued.
 */
final class Throttle implements AutoCloseable {
  private static final long PERIOD_MILLIS = 100;

  private final int pid;
  private final Signals signals;
  private final ScheduledExecutorService scheduler;
  private ScheduledFuture<?> task;
  private int percent;

  Throttle(int pid, Signals signals, ScheduledExecutorService scheduler) {
    this.pid = pid;
    this.signals = signals;
    this.scheduler = scheduler;
  }

  synchronized int set(int newPercent) {
    if (newPercent < 0 || newPercent > 99) {
      throw new IllegalArgumentException("throttle percent must be 0..99, got " + newPercent);
    }
    if (task != null) {
      task.cancel(false);
      task = null;
      signals.send(pid, Signals.SIGCONT);
    }
    percent = newPercent;
    if (percent > 0) {
      long stopMillis = PERIOD_MILLIS * percent / 100;
      task = scheduler.scheduleAtFixedRate(() -> {
        if (stopIfActive()) {
          scheduler.schedule(this::continueIfActive, stopMillis, TimeUnit.MILLISECONDS);
        }
      }, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }
    return percent;
  }

  private synchronized boolean stopIfActive() {
    return task != null && signals.send(pid, Signals.SIGSTOP);
  }

  private synchronized void continueIfActive() {
    if (task != null) {
      signals.send(pid, Signals.SIGCONT);
    }
  }

  synchronized int percent() {
    return percent;
  }

  @Override
  public synchronized void close() {
    set(0);
  }
}
