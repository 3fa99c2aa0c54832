package dev.ferry.service.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Plays systemd for tests and lab checks: a unix datagram socket of its own that receives the
 * notifications of a daemon started with {@link #environment()} ({@code NOTIFY_SOCKET}).
 * One thread at a time.
 */
public final class NotifySocketListener implements AutoCloseable {

    /** How long {@link #next()} and {@link #awaitLine} wait. */
    public static final Duration PATIENCE = Duration.ofSeconds(20);

    private final NotifyAddress address;
    private final UnixDatagramSocket socket;
    private final Path directory;

    private NotifySocketListener(NotifyAddress address, Path directory) throws IOException {
        this.address = address;
        this.directory = directory;
        this.socket = UnixDatagramSocket.bound(address);
    }

    /** Bound to a fresh abstract name ("@..."), as systemd's own notify socket is. */
    public static NotifySocketListener onAbstractName() throws IOException {
        return new NotifySocketListener(new NotifyAddress("@ferry-test-" + UUID.randomUUID()), null);
    }

    /** Bound to a path in a fresh temporary directory. */
    public static NotifySocketListener onPath() throws IOException {
        Path directory = Files.createTempDirectory("ferry-notify");
        return new NotifySocketListener(new NotifyAddress(directory.resolve("notify").toString()), directory);
    }

    public NotifyAddress address() {
        return address;
    }

    /** {@code NOTIFY_SOCKET} for the daemon's environment. */
    public Map<String, String> environment() {
        return Map.of("NOTIFY_SOCKET", address.value());
    }

    /** The next datagram; an exception if none comes within {@link #PATIENCE}. */
    public String next() throws IOException {
        return socket.receive(PATIENCE).orElseThrow(() -> new IOException("no notification within " + PATIENCE));
    }

    public Optional<String> next(Duration timeout) throws IOException {
        return socket.receive(timeout);
    }

    /** Skips datagrams until one contains {@code line} as a whole line; returns that datagram. */
    public String awaitLine(String line) throws IOException {
        return awaitLine(line, PATIENCE);
    }

    /** Skips datagrams until one contains {@code line} as a whole line, for at most {@code patience}. */
    public String awaitLine(String line, Duration patience) throws IOException {
        long deadline = System.nanoTime() + patience.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> message = socket.receive(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (message.isPresent() && message.get().lines().anyMatch(line::equals)) {
                return message.get();
            }
        }
        throw new IOException("no notification with line '" + line + "' within " + patience);
    }

    @Override
    public void close() throws IOException {
        socket.close();
        if (directory != null) {
            Files.deleteIfExists(directory.resolve("notify"));
            Files.deleteIfExists(directory);
        }
    }
}
