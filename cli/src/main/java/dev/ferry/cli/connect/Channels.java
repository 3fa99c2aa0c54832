package dev.ferry.cli.connect;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;

/**
 * The one place the CLI builds its channel to a coordinator. The credentials are mutual TLS with
 * the operator's (or viewer's) certificate ({@link ClientSecurity}), plaintext only with
 * {@code --insecure}.
 */
public final class Channels {
    private Channels() {
    }

    public static ManagedChannel toCoordinator(CoordinatorAddress address, ChannelCredentials credentials) {
        return Grpc.newChannelBuilderForAddress(address.host(), address.port(), credentials)
                .userAgent("ferry-migrate")
                // Events are small; a larger message is a bug, not something to buffer.
                .maxInboundMessageSize(4 << 20)
                .build();
    }
}
