package dev.ferry.service.systemd;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's stop sequence, for SIGTERM from systemd ({@code systemctl stop}, a restart, a
 * shutdown) as much as for a close from code:
 * <ol>
 *   <li>{@code STOPPING=1} and {@code EXTEND_TIMEOUT_USEC} to the service manager; from here on
 *       {@link #register} refuses new work with {@link ShutdownInProgressException};</li>
 *   <li>every registered {@link RollbackHook} runs, all in parallel, each on its own thread,
 *       until the deadline (a migration that has not committed is rolled back: the source
 *       process resumes, nothing stays frozen);</li>
 *   <li>the components given to {@link #closeAtExit} are closed, last given first (gRPC server,
 *       ZooKeeper registration, ...).</li>
 * </ol>
 * The deadline must be shorter than the unit's {@code TimeoutStopSec=} so that systemd's SIGKILL
 * never lands in the middle of a rollback.
 *
 * <p>Thread safety: all methods may be called from any thread. The lock guards only the
 * bookkeeping; hooks and closes run outside it.
 */
public final class GracefulShutdown implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GracefulShutdown.class);
    /** Asked of systemd on top of the deadline, for the closes after the rollbacks. */
    private static final Duration CLOSE_ALLOWANCE = Duration.ofSeconds(10);

    private final ServiceNotifier notifier;
    private final Duration deadline;
    private final Object lock = new Object();
    /** Guarded by lock. Insertion order = registration order. */
    private final Map<Long, Pending> pending = new LinkedHashMap<>();
    /** Guarded by lock. */
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
    /** Guarded by lock. */
    private long nextId;
    /** Guarded by lock; set once. */
    private CompletableFuture<ShutdownOutcome> outcome;
    private Thread signalHook;
    /** Completed when a shutdown has run to its end (rollbacks and closes). */
    private final CompletableFuture<ShutdownOutcome> finished = new CompletableFuture<>();

    private record Pending(String name, RollbackHook hook) {
    }

    /** A registered hook; close it when the work ends normally (committed, aborted, finished). */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    public GracefulShutdown(ServiceNotifier notifier, Duration deadline) {
        this.notifier = Objects.requireNonNull(notifier, "notifier");
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("shutdown deadline must be positive: " + deadline);
        }
        this.deadline = deadline;
    }

    /**
     * Runs {@link #shutdown} when the JVM is asked to exit (SIGTERM, SIGINT, System.exit), and
     * waits for it there, so the JVM exits only after the rollbacks. Call once, at startup.
     */
    public GracefulShutdown installSignalHandler() {
        Thread hook = new Thread(() -> shutdown("signal"), "ferry-shutdown");
        synchronized (lock) {
            if (signalHook != null) {
                throw new IllegalStateException("signal handler already installed");
            }
            signalHook = hook;
        }
        Runtime.getRuntime().addShutdownHook(hook);
        return this;
    }

    /**
     * Registers work to undo if the daemon stops before it ends.
     *
     * @throws ShutdownInProgressException once the shutdown has begun: the caller must not start the work
     */
    public Registration register(String name, RollbackHook hook) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(hook, "hook");
        long id;
        synchronized (lock) {
            if (outcome != null) {
                throw new ShutdownInProgressException(name);
            }
            id = nextId++;
            pending.put(id, new Pending(name, hook));
        }
        return () -> {
            synchronized (lock) {
                pending.remove(id);
            }
        };
    }

    /** Closes {@code component} at the end of the shutdown, after the rollbacks; last given, first closed. */
    public void closeAtExit(AutoCloseable component) {
        synchronized (lock) {
            closeables.push(Objects.requireNonNull(component, "component"));
        }
    }

    /**
     * Blocks until a shutdown (signal or {@link #shutdown}) has finished: what a daemon's main
     * thread does after READY=1.
     */
    public ShutdownOutcome awaitShutdown() throws InterruptedException {
        try {
            return finished.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("shutdown failed", e.getCause());
        }
    }

    public boolean stopping() {
        synchronized (lock) {
            return outcome != null;
        }
    }

    /** Registered hooks not yet ended. */
    public int pendingCount() {
        synchronized (lock) {
            return pending.size();
        }
    }

    /**
     * Stops: idempotent; a second caller (the signal hook after a close, or the reverse) waits for
     * the first one's outcome.
     */
    public ShutdownOutcome shutdown(String reason) {
        CompletableFuture<ShutdownOutcome> mine = new CompletableFuture<>();
        CompletableFuture<ShutdownOutcome> running;
        List<Pending> hooks;
        List<AutoCloseable> toClose;
        synchronized (lock) {
            running = outcome;
            if (running == null) {
                outcome = mine;
            }
            hooks = new ArrayList<>(pending.values());
            toClose = new ArrayList<>(closeables);
        }
        if (running != null) {
            return running.join();
        }
        try {
            ShutdownOutcome result = run(reason, hooks, toClose);
            mine.complete(result);
            finished.complete(result);
            return result;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            finished.completeExceptionally(e);
            throw e;
        }
    }

    private ShutdownOutcome run(String reason, List<Pending> hooks, List<AutoCloseable> toClose) {
        long start = System.nanoTime();
        log.info("Shutting down ({}): rolling back {} unfinished operation(s) within {} s", reason, hooks.size(), deadline.toSeconds());
        notifier.stopping("stopping: rolling back " + hooks.size() + " unfinished operation(s)");
        notifier.extendTimeout(deadline.plus(CLOSE_ALLOWANCE));

        Map<String, CompletableFuture<Void>> running = new LinkedHashMap<>();
        for (Pending p : hooks) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            Thread worker = new Thread(() -> {
                try {
                    p.hook().rollback(remaining(start));
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            }, "ferry-rollback-" + p.name());
            worker.setDaemon(true); // a hook stuck past the deadline must not keep the JVM alive
            worker.start();
            running.put(p.name(), done);
        }
        List<String> rolledBack = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<String> timedOut = new ArrayList<>();
        for (Map.Entry<String, CompletableFuture<Void>> e : running.entrySet()) {
            try {
                e.getValue().get(Math.max(0, remaining(start).toNanos()), TimeUnit.NANOSECONDS);
                rolledBack.add(e.getKey());
            } catch (TimeoutException t) {
                timedOut.add(e.getKey());
            } catch (ExecutionException x) {
                failed.add(e.getKey() + ": " + x.getCause());
            } catch (InterruptedException i) {
                Thread.currentThread().interrupt();
                timedOut.add(e.getKey());
            }
        }
        ShutdownOutcome result = new ShutdownOutcome(rolledBack, failed, timedOut, Duration.ofNanos(System.nanoTime() - start));
        if (result.clean()) {
            log.info("Rollbacks done: {}", result.summary());
        } else {
            log.error("Shutdown left work undone: {}", result.summary());
        }
        for (AutoCloseable component : toClose) {
            try {
                component.close();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                log.warn("Closing {} at shutdown failed: {}", component, e.toString());
            }
        }
        notifier.status("stopped: " + result.summary());
        return result;
    }

    private Duration remaining(long start) {
        return deadline.minusNanos(System.nanoTime() - start);
    }

    /** Shuts down (if not yet) and removes the signal handler when not called from it. */
    @Override
    public void close() {
        shutdown("close");
        Thread hook;
        synchronized (lock) {
            hook = signalHook;
        }
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyExiting) {
                // the JVM is exiting: the hook runs anyway and finds the outcome ready
            }
        }
    }
}
