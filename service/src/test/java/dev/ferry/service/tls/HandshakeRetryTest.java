package dev.ferry.service.tls;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** Which failures HandshakeRetry (the CLI's and the coordinator's channels) repeats once: only a TLS handshake that timed out. */
class HandshakeRetryTest {

    @Test
    void aHandshakeTimeoutAnywhereInTheCauseChainIsRepeated() {
        IOException wrapped = new IOException("io exception", new SslHandshakeTimeoutException("handshake timed out after 10000ms"));
        assertTrue(HandshakeRetry.timedOut(Status.UNAVAILABLE.withDescription("io exception").withCause(wrapped)));
    }

    @Test
    void otherFailuresAreNot() {
        assertFalse(HandshakeRetry.timedOut(Status.UNAVAILABLE.withCause(new ConnectException("Connection refused"))),
                "a refused connection fails at once");
        assertFalse(HandshakeRetry.timedOut(Status.UNAVAILABLE));
        assertFalse(HandshakeRetry.timedOut(Status.DEADLINE_EXCEEDED
                .withCause(new SslHandshakeTimeoutException("late"))), "only UNAVAILABLE");
    }
}
