package dev.ferry.service.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Plays systemd in tests: a unix datagram socket of its own that receives notifications. */
final class NotifyListener implements AutoCloseable {

    static final Duration PATIENCE = Duration.ofSeconds(20);

    private final NotifyAddress address;
    private final UnixDatagramSocket socket;
    private final Path directory;

    private NotifyListener(NotifyAddress address, Path directory) throws IOException {
        this.address = address;
        this.directory = directory;
        this.socket = UnixDatagramSocket.bound(address);
    }

    /** Bound to a fresh abstract name ("@..."), as systemd's own notify socket is. */
    static NotifyListener onAbstractName() throws IOException {
        return new NotifyListener(new NotifyAddress("@ferry-test-" + UUID.randomUUID()), null);
    }

    /** Bound to a path in a fresh temporary directory. */
    static NotifyListener onPath() throws IOException {
        Path directory = Files.createTempDirectory("ferry-notify");
        return new NotifyListener(new NotifyAddress(directory.resolve("notify").toString()), directory);
    }

    NotifyAddress address() {
        return address;
    }

    Map<String, String> environment() {
        return Map.of("NOTIFY_SOCKET", address.value());
    }

    /** The next datagram; fails the test if none comes within {@link #PATIENCE}. */
    String next() throws IOException {
        return socket.receive(PATIENCE).orElseThrow(() -> new AssertionError("no notification within " + PATIENCE));
    }

    Optional<String> next(Duration timeout) throws IOException {
        return socket.receive(timeout);
    }

    /** Skips datagrams until one contains {@code line} as a whole line; returns that datagram. */
    String awaitLine(String line) throws IOException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> message = socket.receive(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (message.isPresent() && message.get().lines().anyMatch(line::equals)) {
                return message.get();
            }
        }
        throw new AssertionError("no notification with line '" + line + "' within " + PATIENCE);
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
