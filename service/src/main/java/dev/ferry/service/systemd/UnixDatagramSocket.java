package dev.ferry.service.systemd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * An AF_UNIX SOCK_DGRAM socket through libc (Java 17's channels have unix stream sockets only).
 * Just what the notify protocol needs: send one datagram to an address; and, for tests and
 * supervisors, bind to an address and receive with a timeout.
 *
 * <p>Not thread-safe for concurrent close; each instance is used by one thread at a time.
 */
final class UnixDatagramSocket implements AutoCloseable {

    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final short POLLIN = 0x1;
    private static final int EINTR = 4;

    /** libc, bound lazily: loading it fails only where there is no libc (never on Linux). */
    interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int socket(int domain, int type, int protocol) throws LastErrorException;

        NativeLong sendto(int fd, byte[] buf, NativeLong len, int flags, byte[] addr, int addrlen) throws LastErrorException;

        int bind(int fd, byte[] addr, int addrlen) throws LastErrorException;

        NativeLong recv(int fd, byte[] buf, NativeLong len, int flags) throws LastErrorException;

        int poll(byte[] fds, NativeLong nfds, int timeoutMillis) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private final int fd;
    private boolean closed;

    private UnixDatagramSocket(int fd) {
        this.fd = fd;
    }

    static UnixDatagramSocket open() throws IOException {
        try {
            return new UnixDatagramSocket(LibC.INSTANCE.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        } catch (LastErrorException e) {
            throw new IOException("socket(AF_UNIX, SOCK_DGRAM): errno " + e.getErrorCode(), e);
        }
    }

    /** A socket bound to {@code address} (a path must not exist yet). */
    static UnixDatagramSocket bound(NotifyAddress address) throws IOException {
        UnixDatagramSocket socket = open();
        byte[] sockaddr = address.sockaddr();
        try {
            LibC.INSTANCE.bind(socket.fd, sockaddr, sockaddr.length);
            return socket;
        } catch (LastErrorException e) {
            socket.close();
            throw new IOException("bind(" + address + "): errno " + e.getErrorCode(), e);
        }
    }

    /** Sends one datagram; the whole message or an exception. */
    void send(NotifyAddress to, String message) throws IOException {
        byte[] payload = message.getBytes(StandardCharsets.UTF_8);
        byte[] sockaddr = to.sockaddr();
        try {
            long sent = LibC.INSTANCE.sendto(fd, payload, new NativeLong(payload.length), MSG_NOSIGNAL, sockaddr, sockaddr.length).longValue();
            if (sent != payload.length) {
                throw new IOException("sendto(" + to + ") sent " + sent + " of " + payload.length + " bytes");
            }
        } catch (LastErrorException e) {
            throw new IOException("sendto(" + to + "): errno " + e.getErrorCode(), e);
        }
    }

    /** The next datagram, or empty if none arrived within {@code timeout}. */
    Optional<String> receive(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int waitMillis = (int) Math.max(0, Math.min(Integer.MAX_VALUE, (deadline - System.nanoTime()) / 1_000_000));
            ByteBuffer pollfd = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            pollfd.putInt(fd).putShort(POLLIN).putShort((short) 0);
            byte[] fds = pollfd.array();
            try {
                int ready = LibC.INSTANCE.poll(fds, new NativeLong(1), waitMillis);
                if (ready == 0) {
                    return Optional.empty();
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EINTR) {
                    continue;
                }
                throw new IOException("poll: errno " + e.getErrorCode(), e);
            }
            byte[] buffer = new byte[65536];
            try {
                long length = LibC.INSTANCE.recv(fd, buffer, new NativeLong(buffer.length), 0).longValue();
                return Optional.of(new String(buffer, 0, (int) length, StandardCharsets.UTF_8));
            } catch (LastErrorException e) {
                throw new IOException("recv: errno " + e.getErrorCode(), e);
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                LibC.INSTANCE.close(fd);
            } catch (LastErrorException ignored) {
                // close(2) releases the descriptor even when it reports an error
            }
        }
    }
}
