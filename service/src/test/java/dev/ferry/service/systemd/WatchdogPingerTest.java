package dev.ferry.service.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class WatchdogPingerTest {

    private static final long PID = ProcessHandle.current().pid();

    @Test
    void pingsAtHalfTheWatchdogInterval() {
        assertEquals(Optional.of(Duration.ofSeconds(15)), WatchdogPinger.pingInterval(Map.of("WATCHDOG_USEC", "30000000"), PID));
        assertEquals(Optional.of(Duration.ofSeconds(15)),
                WatchdogPinger.pingInterval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", Long.toString(PID)), PID));
    }

    @Test
    void noWatchdogWhenUnsetMalformedOrMeantForAnotherProcess() {
        assertEquals(Optional.empty(), WatchdogPinger.pingInterval(Map.of(), PID));
        assertEquals(Optional.empty(), WatchdogPinger.pingInterval(Map.of("WATCHDOG_USEC", "0"), PID));
        assertEquals(Optional.empty(), WatchdogPinger.pingInterval(Map.of("WATCHDOG_USEC", "soon"), PID));
        assertEquals(Optional.empty(), WatchdogPinger.pingInterval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "1"), PID));
    }

    @Test
    void inactiveWithoutANotifySocket() {
        try (ServiceNotifier notifier = ServiceNotifier.fromEnvironment(Map.of());
             WatchdogPinger pinger = WatchdogPinger.start(notifier, Map.of("WATCHDOG_USEC", "200000"), () -> Health.ok("fine"))) {
            assertFalse(pinger.active());
        }
    }

    @Test
    void pingsWhileHealthyWithholdsWhileNotAndShowsTheHealthAsStatus() throws Exception {
        AtomicReference<Health> health = new AtomicReference<>(Health.ok("serving, 0 active migrations"));
        try (NotifySocketListener systemd = NotifySocketListener.onAbstractName();
             ServiceNotifier notifier = ServiceNotifier.fromEnvironment(systemd.environment())) {
            Map<String, String> environment = new HashMap<>(systemd.environment());
            environment.put("WATCHDOG_USEC", "200000"); // pings every 100 ms
            environment.put("WATCHDOG_PID", Long.toString(PID));
            try (WatchdogPinger pinger = WatchdogPinger.start(notifier, environment, health::get)) {
                assertTrue(pinger.active());
                assertEquals(Optional.of(Duration.ofMillis(100)), pinger.interval());
                assertEquals("STATUS=serving, 0 active migrations", systemd.next());
                for (int i = 0; i < 3; i++) {
                    assertEquals("WATCHDOG=1", systemd.next());
                }

                health.set(Health.failing("ZooKeeper session lost"));
                systemd.awaitLine("STATUS=unhealthy: ZooKeeper session lost");
                long withheldBefore = pinger.pingsWithheld();
                // While unhealthy not one ping may arrive; wait until the pinger has withheld three.
                long deadline = System.nanoTime() + NotifySocketListener.PATIENCE.toNanos();
                while (pinger.pingsWithheld() < withheldBefore + 3) {
                    if (System.nanoTime() > deadline) {
                        fail("the pinger stopped ticking");
                    }
                    systemd.next(Duration.ofMillis(50)).ifPresent(m -> fail("sent while unhealthy: " + m));
                }

                health.set(Health.ok("serving, 1 active migration"));
                assertEquals("STATUS=serving, 1 active migration", systemd.next());
                assertEquals("WATCHDOG=1", systemd.next());
            }
        }
    }

    @Test
    void aThrowingCheckCountsAsUnhealthy() throws Exception {
        try (NotifySocketListener systemd = NotifySocketListener.onAbstractName();
             ServiceNotifier notifier = ServiceNotifier.fromEnvironment(systemd.environment())) {
            Map<String, String> environment = new HashMap<>(systemd.environment());
            environment.put("WATCHDOG_USEC", "200000");
            try (WatchdogPinger pinger = WatchdogPinger.start(notifier, environment, () -> {
                throw new IllegalStateException("broken");
            })) {
                String status = systemd.next();
                assertTrue(status.startsWith("STATUS=unhealthy: health check failed: java.lang.IllegalStateException: broken"), status);
                assertEquals(Optional.empty(), systemd.next(Duration.ofMillis(300)));
                assertEquals(0, pinger.pingsSent());
            }
        }
    }
}
