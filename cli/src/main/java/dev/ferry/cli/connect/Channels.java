package dev.ferry.cli.connect;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;

/**
 * The one place the CLI builds its channel to a coordinator. mTLS goes here: swap the
 * credentials for {@code TlsChannelCredentials} with the operator's identity.
 */
public final class Channels {
    private Channels() {
    }

    public static ManagedChannel toCoordinator(CoordinatorAddress address) {
        ChannelCredentials credentials = InsecureChannelCredentials.create();
        return Grpc.newChannelBuilderForAddress(address.host(), address.port(), credentials)
                .userAgent("ferry-migrate")
                // Events are small; a larger message is a bug, not something to buffer.
                .maxInboundMessageSize(4 << 20)
                .build();
    }
}
