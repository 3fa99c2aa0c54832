package dev.ferry.cli.connect;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** Which failures CoordinatorClient repeats once: only a TLS handshake that timed out. */
class HandshakeRetryTest {

    @Test
    void aHandshakeTimeoutAnywhereInTheCauseChainIsRepeated() {
        IOException wrapped = new IOException("io exception", new SslHandshakeTimeoutException("handshake timed out after 10000ms"));
        assertTrue(CoordinatorClient.handshakeTimedOut(
                Status.UNAVAILABLE.withDescription("io exception").withCause(wrapped).asRuntimeException()));
    }

    @Test
    void otherFailuresAreNot() {
        assertFalse(CoordinatorClient.handshakeTimedOut(
                Status.UNAVAILABLE.withCause(new ConnectException("Connection refused")).asRuntimeException()),
                "a refused connection fails at once");
        assertFalse(CoordinatorClient.handshakeTimedOut(Status.UNAVAILABLE.asRuntimeException()));
        assertFalse(CoordinatorClient.handshakeTimedOut(Status.DEADLINE_EXCEEDED
                .withCause(new SslHandshakeTimeoutException("late")).asRuntimeException()), "only UNAVAILABLE");
    }
}
