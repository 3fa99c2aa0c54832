package dev.ferry.service.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GracefulShutdownTest {

    @Test
    void announcesStoppingAndRunsEveryHookInParallel() throws Exception {
        try (NotifySocketListener systemd = NotifySocketListener.onAbstractName();
             ServiceNotifier notifier = ServiceNotifier.fromEnvironment(systemd.environment())) {
            GracefulShutdown shutdown = new GracefulShutdown(notifier, Duration.ofSeconds(30));
            // Each hook waits for the other: only parallel hooks both finish before the deadline.
            CountDownLatch bothStarted = new CountDownLatch(2);
            RollbackHook meetTheOther = remaining -> {
                bothStarted.countDown();
                if (!bothStarted.await(remaining.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("hooks ran one after the other");
                }
            };
            shutdown.register("migration-1", meetTheOther);
            shutdown.register("migration-2", meetTheOther);

            ShutdownOutcome outcome = shutdown.shutdown("test");

            assertEquals(List.of("migration-1", "migration-2"), outcome.rolledBack());
            assertTrue(outcome.clean(), outcome.summary());
            assertEquals("STOPPING=1\nSTATUS=stopping: rolling back 2 unfinished operation(s)", systemd.next());
            assertEquals("EXTEND_TIMEOUT_USEC=40000000", systemd.next());
            assertTrue(systemd.next().startsWith("STATUS=stopped: 2 rolled back, 0 failed, 0 timed out"));
        }
    }

    @Test
    void aHookPastTheDeadlineIsReportedAndLeftBehind() {
        try (ServiceNotifier notifier = ServiceNotifier.fromEnvironment(java.util.Map.of())) {
            GracefulShutdown shutdown = new GracefulShutdown(notifier, Duration.ofMillis(300));
            CountDownLatch never = new CountDownLatch(1);
            shutdown.register("stuck", remaining -> never.await());
            shutdown.register("quick", remaining -> { });
            shutdown.register("broken", remaining -> {
                throw new IllegalStateException("peer unreachable");
            });

            ShutdownOutcome outcome = shutdown.shutdown("test");

            assertEquals(List.of("quick"), outcome.rolledBack());
            assertEquals(List.of("stuck"), outcome.timedOut());
            assertEquals(List.of("broken: java.lang.IllegalStateException: peer unreachable"), outcome.failed());
            assertTrue(outcome.took().compareTo(Duration.ofSeconds(10)) < 0, outcome.summary());
            never.countDown();
        }
    }

    @Test
    void finishedWorkIsNotRolledBackAndNewWorkIsRefused() {
        try (ServiceNotifier notifier = ServiceNotifier.fromEnvironment(java.util.Map.of())) {
            GracefulShutdown shutdown = new GracefulShutdown(notifier, Duration.ofSeconds(5));
            List<String> ran = new CopyOnWriteArrayList<>();
            GracefulShutdown.Registration committed = shutdown.register("committed", remaining -> ran.add("committed"));
            shutdown.register("open", remaining -> ran.add("open"));
            committed.close();
            assertEquals(1, shutdown.pendingCount());

            CompletableFuture<ShutdownOutcome> mainThread = CompletableFuture.supplyAsync(() -> {
                try {
                    return shutdown.awaitShutdown();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertFalse(mainThread.isDone());

            ShutdownOutcome first = shutdown.shutdown("test");
            assertSame(first, mainThread.join(), "the main thread wakes with the outcome");

            assertEquals(List.of("open"), ran);
            assertTrue(shutdown.stopping());
            assertThrows(ShutdownInProgressException.class, () -> shutdown.register("late", remaining -> ran.add("late")));
            assertSame(first, shutdown.shutdown("again"), "a second shutdown waits for and returns the first");
            assertEquals(List.of("open"), ran);
        }
    }

    @Test
    void closesComponentsAfterTheRollbacksLastGivenFirst() {
        try (ServiceNotifier notifier = ServiceNotifier.fromEnvironment(java.util.Map.of())) {
            List<String> order = new CopyOnWriteArrayList<>();
            GracefulShutdown shutdown = new GracefulShutdown(notifier, Duration.ofSeconds(5));
            shutdown.closeAtExit(() -> order.add("zookeeper registration"));
            shutdown.closeAtExit(() -> order.add("grpc server"));
            shutdown.closeAtExit(() -> {
                throw new IllegalStateException("does not stop a later close");
            });
            shutdown.register("migration", remaining -> order.add("rollback"));

            shutdown.close();

            assertEquals(List.of("rollback", "grpc server", "zookeeper registration"), order);
        }
    }
}
