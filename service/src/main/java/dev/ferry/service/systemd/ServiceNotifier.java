package dev.ferry.service.systemd;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the service manager about this process through the {@code sd_notify} datagram protocol
 * (see sd_notify(3)): {@code READY=1}, {@code STATUS=...}, {@code STOPPING=1}, {@code WATCHDOG=1},
 * {@code EXTEND_TIMEOUT_USEC=...}. One datagram per call on a fresh socket, as libsystemd does,
 * so every method is safe from any thread and never blocks for long.
 *
 * <p>Without {@code NOTIFY_SOCKET} (run by hand, in tests, under another supervisor) every call is
 * a no-op returning {@link Delivery#DISABLED}, announced by one debug line at creation.
 * Failures to send are logged (the first as a warning, the rest at debug) and returned as
 * {@link Delivery#FAILED}; nothing here throws at the caller.
 */
public final class ServiceNotifier implements AutoCloseable {

    /** Variables the protocol hands to this process only, not to the processes it starts. */
    public static final List<String> SERVICE_MANAGER_VARIABLES = List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID");

    private static final Logger log = LoggerFactory.getLogger(ServiceNotifier.class);

    private final Optional<NotifyAddress> address;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean failureReported = new AtomicBoolean();

    private ServiceNotifier(Optional<NotifyAddress> address) {
        this.address = address;
    }

    /** From this process's environment. */
    public static ServiceNotifier fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** From the given environment (tests, or a launcher that passes its own). */
    public static ServiceNotifier fromEnvironment(Map<String, String> environment) {
        String raw = environment.get("NOTIFY_SOCKET");
        Optional<NotifyAddress> address = NotifyAddress.parse(raw);
        if (address.isEmpty()) {
            log.debug(raw == null || raw.isBlank()
                    ? "NOTIFY_SOCKET is not set: not run by systemd as Type=notify, service notifications are off"
                    : "NOTIFY_SOCKET={} is not a unix socket address: service notifications are off", raw);
        } else {
            log.debug("Service notifications go to {}", address.get());
        }
        return new ServiceNotifier(address);
    }

    /** A notifier that sends to {@code address} whatever the environment says. */
    public static ServiceNotifier to(NotifyAddress address) {
        return new ServiceNotifier(Optional.of(address));
    }

    /** Removes the variables meant for this process from a child's environment (criu, workloads). */
    public static void scrub(Map<String, String> childEnvironment) {
        SERVICE_MANAGER_VARIABLES.forEach(childEnvironment::remove);
    }

    public boolean enabled() {
        return address.isPresent() && !closed.get();
    }

    /** Startup finished: the daemon serves. */
    public Delivery ready(String status) {
        return send("READY=1\nSTATUS=" + oneLine(status));
    }

    /** A free-form line shown by {@code systemctl status}, e.g. "serving, 2 active migrations". */
    public Delivery status(String status) {
        return send("STATUS=" + oneLine(status));
    }

    /** Shutdown has begun. */
    public Delivery stopping(String status) {
        return send("STOPPING=1\nSTATUS=" + oneLine(status));
    }

    /** Keep-alive for {@code WatchdogSec=}; see {@link WatchdogPinger} for who calls it. */
    public Delivery watchdog() {
        return send("WATCHDOG=1");
    }

    /**
     * Asks for {@code extension} more time in the current start or stop phase (from now), e.g. while
     * rolling migrations back on SIGTERM. Honoured by systemd 236 and later.
     */
    public Delivery extendTimeout(Duration extension) {
        return send("EXTEND_TIMEOUT_USEC=" + Math.max(1, extension.toNanos() / 1000));
    }

    /** Sends raw assignments ({@code KEY=VALUE} lines). */
    public Delivery send(String assignments) {
        if (!enabled()) {
            return Delivery.DISABLED;
        }
        NotifyAddress to = address.get();
        try (UnixDatagramSocket socket = UnixDatagramSocket.open()) {
            socket.send(to, assignments);
            return Delivery.SENT;
        } catch (IOException | RuntimeException | LinkageError e) {
            // LinkageError: JNA could not load its native part; the daemon runs on, unsupervised.
            if (failureReported.compareAndSet(false, true)) {
                log.warn("Cannot notify the service manager at {} ({}); further failures are logged at debug", to, e.toString());
            } else {
                log.debug("Cannot notify the service manager at {}: {}", to, e.toString());
            }
            return Delivery.FAILED;
        }
    }

    /** Further calls are no-ops; nothing is sent on close (say {@link #stopping} first). */
    @Override
    public void close() {
        closed.set(true);
    }

    /** STATUS= is one line of the datagram: a newline would start another assignment. */
    private static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("[\\r\\n]+", " ").strip();
    }

    @Override
    public String toString() {
        return address.map(a -> "ServiceNotifier[" + a + "]").orElse("ServiceNotifier[disabled]");
    }
}
