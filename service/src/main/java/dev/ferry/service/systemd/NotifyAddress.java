package dev.ferry.service.systemd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Where systemd listens for notifications: the value of {@code NOTIFY_SOCKET}, an AF_UNIX datagram
 * socket given either as a file system path ({@code /run/systemd/notify}) or as an abstract name
 * ({@code @/org/freedesktop/systemd1/notify/...}, the leading '@' standing for the NUL byte).
 *
 * <p>Other forms systemd knows ({@code vsock:...}) are not supported: {@link #parse} returns
 * empty for them, and the notifier then reports itself disabled rather than failing the daemon.
 */
public record NotifyAddress(String value) {

    /** sizeof(sun_path) on Linux. */
    static final int SUN_PATH_MAX = 108;
    private static final short AF_UNIX = 1;

    public NotifyAddress {
        if (value == null || value.length() < 2 || !(value.startsWith("/") || value.startsWith("@"))) {
            throw new IllegalArgumentException("not a unix socket address (want /path or @abstract): " + value);
        }
        if (value.getBytes(StandardCharsets.UTF_8).length > SUN_PATH_MAX - 1) {
            throw new IllegalArgumentException("unix socket address longer than " + (SUN_PATH_MAX - 1) + " bytes: " + value);
        }
    }

    /** The address in {@code NOTIFY_SOCKET}, or empty if unset, blank or of an unsupported kind. */
    public static Optional<NotifyAddress> parse(String notifySocket) {
        if (notifySocket == null || notifySocket.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new NotifyAddress(notifySocket.strip()));
        } catch (IllegalArgumentException unsupported) {
            return Optional.empty();
        }
    }

    public boolean isAbstract() {
        return value.startsWith("@");
    }

    /**
     * A {@code struct sockaddr_un} for this address: the family in host byte order, then the
     * path. Its length (what to pass as {@code addrlen}) is the array length: for an abstract
     * name exactly family + NUL + name (the kernel takes every byte of it as the name), for a path
     * family + path + terminating NUL.
     */
    byte[] sockaddr() {
        byte[] path = value.getBytes(StandardCharsets.UTF_8);
        ByteBuffer address = ByteBuffer.allocate(2 + path.length + (isAbstract() ? 0 : 1)).order(ByteOrder.nativeOrder());
        address.putShort(AF_UNIX);
        if (isAbstract()) {
            address.put((byte) 0).put(path, 1, path.length - 1);
        } else {
            address.put(path).put((byte) 0);
        }
        return address.array();
    }

    @Override
    public String toString() {
        return value;
    }
}
