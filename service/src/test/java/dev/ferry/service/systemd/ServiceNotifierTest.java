package dev.ferry.service.systemd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ServiceNotifierTest {

    @Test
    void sendsReadyStatusWatchdogAndStoppingToAnAbstractSocket() throws Exception {
        try (NotifySocketListener systemd = NotifySocketListener.onAbstractName();
             ServiceNotifier notifier = ServiceNotifier.fromEnvironment(systemd.environment())) {
            assertTrue(notifier.enabled());
            assertEquals(Delivery.SENT, notifier.ready("serving on :7070"));
            assertEquals("READY=1\nSTATUS=serving on :7070", systemd.next());
            assertEquals(Delivery.SENT, notifier.status("2 active migrations"));
            assertEquals("STATUS=2 active migrations", systemd.next());
            assertEquals(Delivery.SENT, notifier.watchdog());
            assertEquals("WATCHDOG=1", systemd.next());
            assertEquals(Delivery.SENT, notifier.extendTimeout(Duration.ofSeconds(70)));
            assertEquals("EXTEND_TIMEOUT_USEC=70000000", systemd.next());
            assertEquals(Delivery.SENT, notifier.stopping("stopping"));
            assertEquals("STOPPING=1\nSTATUS=stopping", systemd.next());
        }
    }

    @Test
    void sendsToASocketPath() throws Exception {
        try (NotifySocketListener systemd = NotifySocketListener.onPath();
             ServiceNotifier notifier = ServiceNotifier.fromEnvironment(systemd.environment())) {
            assertEquals(Delivery.SENT, notifier.ready("up"));
            assertEquals("READY=1\nSTATUS=up", systemd.next());
        }
    }

    @Test
    void aStatusStaysOneAssignment() throws Exception {
        try (NotifySocketListener systemd = NotifySocketListener.onAbstractName();
             ServiceNotifier notifier = ServiceNotifier.fromEnvironment(systemd.environment())) {
            notifier.status("line one\nREADY=1\r\nline two");
            assertEquals("STATUS=line one READY=1 line two", systemd.next());
        }
    }

    @Test
    void withoutNotifySocketEverythingIsANoOp() {
        try (ServiceNotifier notifier = ServiceNotifier.fromEnvironment(Map.of())) {
            assertFalse(notifier.enabled());
            assertEquals(Delivery.DISABLED, notifier.ready("up"));
            assertEquals(Delivery.DISABLED, notifier.watchdog());
        }
        try (ServiceNotifier vsock = ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "vsock:2:1234"))) {
            assertFalse(vsock.enabled());
            assertEquals(Delivery.DISABLED, vsock.status("x"));
        }
    }

    @Test
    void aSocketNobodyListensOnIsAFailureNotAnException() {
        try (ServiceNotifier notifier = ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", "/nonexistent/ferry/notify"))) {
            assertTrue(notifier.enabled());
            assertEquals(Delivery.FAILED, notifier.ready("up"));
            assertEquals(Delivery.FAILED, notifier.watchdog());
        }
    }

    @Test
    void aClosedNotifierSendsNothing() throws Exception {
        try (NotifySocketListener systemd = NotifySocketListener.onAbstractName()) {
            ServiceNotifier notifier = ServiceNotifier.fromEnvironment(systemd.environment());
            notifier.close();
            assertEquals(Delivery.DISABLED, notifier.ready("late"));
            assertEquals(Optional.empty(), systemd.next(Duration.ofMillis(200)));
        }
    }

    @Test
    void abstractNamesAreEncodedWithoutTrailingNul() {
        byte[] sockaddr = new NotifyAddress("@ab").sockaddr();
        assertArrayEquals(new byte[] {1, 0, 0, 'a', 'b'}, sockaddr);
        byte[] path = new NotifyAddress("/r").sockaddr();
        assertArrayEquals(new byte[] {1, 0, '/', 'r', 0}, path);
        assertEquals(Optional.empty(), NotifyAddress.parse("relative/path"));
        assertEquals(Optional.empty(), NotifyAddress.parse("/" + "x".repeat(200)));
    }

    @Test
    void childrenDoNotInheritTheNotifySocket() {
        Map<String, String> child = new HashMap<>(Map.of("NOTIFY_SOCKET", "@x", "WATCHDOG_USEC", "1", "WATCHDOG_PID", "2", "PATH", "/bin"));
        ServiceNotifier.scrub(child);
        assertEquals(Map.of("PATH", "/bin"), child);
    }
}
