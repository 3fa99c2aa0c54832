package dev.ferry.service.tls;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TLS handshake of a daemon with its own gRPC server, before it reports READY=1: a fresh JVM
 * loads and runs its TLS stack (both roles: certificate checks, key exchange, signatures) the
 * first time here, not under a client's deadline. In the emulated lab VM that first handshake
 * took longer than Netty's 10 s and closed the first CLI call ("Network closed for unknown
 * reason"). Takes the connection up to READY (handshake done, the server's HTTP/2 settings
 * received); calls nothing, so no authorization is involved.
 *
 * <p>Never fatal: a warm-up that fails (e.g. a certificate that does not name the loopback
 * address the daemon dials) or does not finish in time is one log line; the daemon serves anyway.
 * Blocks the calling thread (the daemon's main thread, never an event loop).
 */
public final class TlsWarmUp {
    private static final Logger log = LoggerFactory.getLogger(TlsWarmUp.class);

    private TlsWarmUp() {
    }

    /** As {@link #run(TransportSecurity, String, int, Duration)} for a server listening on {@code listening} (a wildcard address is dialled on loopback). */
    public static Optional<Duration> run(TransportSecurity security, InetSocketAddress listening, Duration within) {
        String host = listening.getAddress() == null || listening.getAddress().isAnyLocalAddress()
                ? InetAddress.getLoopbackAddress().getHostAddress() : listening.getAddress().getHostAddress();
        return run(security, host, listening.getPort(), within);
    }

    /**
     * Connects to {@code host:port} with {@code security}'s client side and waits, at most
     * {@code within}, until the connection is ready.
     *
     * @return how long it took; empty if it did not get ready (logged) or security is plaintext
     */
    public static Optional<Duration> run(TransportSecurity security, String host, int port, Duration within) {
        if (security instanceof TransportSecurity.Plaintext) {
            return Optional.empty();
        }
        long start = System.nanoTime();
        ManagedChannel channel = NettyChannelBuilder.forAddress(host, port, security.channelCredentials()).build();
        try {
            boolean ready = awaitReady(channel, within);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (ready) {
                log.info("TLS warm-up: first handshake with the own server at {}:{} took {} ms", host, port, took.toMillis());
                return Optional.of(took);
            }
            log.warn("TLS warm-up: no TLS connection to the own server at {}:{} after {} ms (limit {} ms, state {}); serving anyway",
                    host, port, took.toMillis(), within.toMillis(), channel.getState(false));
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } finally {
            channel.shutdownNow();
        }
    }

    /** Waits for READY; a TRANSIENT_FAILURE (refused, handshake failed) ends the wait at once. */
    private static boolean awaitReady(ManagedChannel channel, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        ConnectivityState state = channel.getState(true);
        while (state != ConnectivityState.READY) {
            if (state == ConnectivityState.TRANSIENT_FAILURE || state == ConnectivityState.SHUTDOWN) {
                return false;
            }
            CountDownLatch changed = new CountDownLatch(1);
            channel.notifyWhenStateChanged(state, changed::countDown);
            long left = deadline - System.nanoTime();
            if (left <= 0 || !changed.await(left, TimeUnit.NANOSECONDS)) {
                return false;
            }
            state = channel.getState(true);
        }
        return true;
    }
}
