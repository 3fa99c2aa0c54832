package dev.ferry.cli.connect;

import dev.ferry.service.tls.HandshakeRetry;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;

/**
 * The one place the CLI builds its channel to a coordinator. The credentials are mutual TLS with
 * the operator's (or viewer's) certificate ({@link ClientSecurity}), plaintext only with
 * {@code --insecure}. A unary call that provably never reached the coordinator (its connection
 * failed before the call's stream was created on it: a TLS handshake that timed out on either
 * side, as a fresh CLI JVM on a slow machine, the emulated lab VM, can cause) is repeated once on
 * the next connection ({@link HandshakeRetry}, as the coordinator's channels to agents); a call
 * the coordinator may have taken never is.
 */
public final class Channels {
    private Channels() {
    }

    public static ManagedChannel toCoordinator(CoordinatorAddress address, ChannelCredentials credentials) {
        return Grpc.newChannelBuilderForAddress(address.host(), address.port(), credentials)
                .userAgent("ferry-migrate")
                // Events are small; a larger message is a bug, not something to buffer.
                .maxInboundMessageSize(4 << 20)
                .intercept(new HandshakeRetry())
                .build();
    }
}
