package dev.ferry.service.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/**
 * Which failures HandshakeRetry (the CLI's and the coordinator's channels) may repeat once when the
 * call never reached the server, and how it describes them (SlowHandshakeTest runs it on real
 * connections).
 */
class HandshakeRetryTest {

    @Test
    void aHandshakeTimeoutAnywhereInTheCauseChainIsRepeated() {
        IOException wrapped = new IOException("io exception", new SslHandshakeTimeoutException("handshake timed out after 10000ms"));
        assertTrue(HandshakeRetry.timedOut(Status.UNAVAILABLE.withDescription("io exception").withCause(wrapped)));
    }

    @Test
    void aConnectionClosedBeforeTheCallReachedTheServerMayBeRepeatedButARefusedOneNot() {
        assertTrue(HandshakeRetry.repeatable(Status.UNAVAILABLE.withDescription("Network closed for unknown reason")));
        assertFalse(HandshakeRetry.repeatable(Status.UNAVAILABLE.withCause(new IOException("io",
                new ConnectException("Connection refused")))), "nothing listens there: fail at once");
        assertFalse(HandshakeRetry.repeatable(Status.DEADLINE_EXCEEDED), "the deadline is spent");
    }

    @Test
    void theDescriptionNamesTheServerAndTheHandshake() {
        Status closed = HandshakeRetry.undelivered(Status.UNAVAILABLE.withDescription("Network closed for unknown reason"),
                "127.0.0.1:7000");
        assertEquals("the call did not reach 127.0.0.1:7000: its connection closed before the server finished the TLS "
                + "handshake (Network closed for unknown reason; the server's log names the cause)", closed.getDescription());
        Status timedOut = HandshakeRetry.undelivered(Status.UNAVAILABLE.withDescription("io exception")
                .withCause(new SslHandshakeTimeoutException("handshake timed out after 10000ms")), "host2:7001");
        assertEquals("TLS handshake with host2:7001 did not finish: handshake timed out after 10000ms", timedOut.getDescription());
        Status refused = Status.UNAVAILABLE.withDescription("io exception").withCause(new ConnectException("Connection refused"));
        assertEquals(refused, HandshakeRetry.undelivered(refused, "127.0.0.1:7000"), "left as it is");
    }

    @Test
    void otherFailuresAreNotTimeouts() {
        assertFalse(HandshakeRetry.timedOut(Status.UNAVAILABLE.withCause(new ConnectException("Connection refused"))),
                "a refused connection fails at once");
        assertFalse(HandshakeRetry.timedOut(Status.UNAVAILABLE));
        assertFalse(HandshakeRetry.timedOut(Status.DEADLINE_EXCEEDED
                .withCause(new SslHandshakeTimeoutException("late"))), "only UNAVAILABLE");
    }
}
