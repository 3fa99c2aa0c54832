package dev.ferry.service.tls;

import dev.ferry.service.auth.AccessPolicy;
import dev.ferry.service.auth.AuthorizationInterceptor;
import dev.ferry.service.auth.PeerIdentity;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.netty.NettySslContextChannelCredentials;
import io.netty.handler.ssl.SslContext;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one Ferry process secures its gRPC servers and channels: mutual TLS from PEM files (the
 * default) or, only when asked explicitly, plaintext. The one object every server/channel
 * factory takes:
 * <pre>
 *   NettyServerBuilder.forAddress(addr, security.serverCredentials()).intercept(security.authorization(AccessPolicy.ferry()))
 *   NettyChannelBuilder.forTarget(target, security.channelCredentials())
 * </pre>
 * Immutable and thread-safe; the TLS contexts are built (and the files checked) at creation,
 * so a bad file stops the process at start with a message naming it.
 */
public sealed interface TransportSecurity permits TransportSecurity.MutualTls, TransportSecurity.Plaintext {

    /** Server credentials whose TLS handshakes may take Netty's usual 10 s ({@link ServerHandshake#NETTY_DEFAULT}). */
    default ServerCredentials serverCredentials() {
        return serverCredentials(ServerHandshake.NETTY_DEFAULT);
    }

    /**
     * Server credentials whose TLS handshakes may take {@code handshakeTimeout} (give the
     * deployment's scaled value: a cold JVM on a slow machine outlasts a fixed 10 s); a handshake
     * that fails or times out is logged naming the client ({@link ServerHandshake}).
     */
    ServerCredentials serverCredentials(Duration handshakeTimeout);

    ChannelCredentials channelCredentials();

    /**
     * Channel credentials for reaching one named peer: with mutual TLS the server's certificate
     * must also carry {@code peerName} as its CN (an agent's Ferry host name); "" accepts any
     * name the CA signed. Builds a TLS context per call: for channels kept a while, not per RPC.
     */
    ChannelCredentials channelCredentials(String peerName);

    /** The interceptor that authorizes each call on a server built with {@link #serverCredentials()}. */
    ServerInterceptor authorization(AccessPolicy policy);

    /** This process's own identity (from its certificate), or the insecure identity. */
    PeerIdentity identity();

    /** Mutual TLS with the given files; fails now if a file is missing, unreadable or expired. */
    static TransportSecurity mutualTls(TlsFiles files) {
        return new MutualTls(files);
    }

    /** Plaintext, nobody authenticated; logs a WARN naming {@code component} now. */
    static TransportSecurity insecure(String component) {
        return new Plaintext(component);
    }

    /** Mutual TLS: both contexts built once, reused by every server and channel. */
    final class MutualTls implements TransportSecurity {
        private static final Logger log = LoggerFactory.getLogger(MutualTls.class);
        private static final Duration EXPIRY_WARNING = Duration.ofDays(7);

        private final TlsFiles files;
        private final PeerIdentity identity;
        private final SslContext server;
        private final ChannelCredentials channel;

        MutualTls(TlsFiles files) {
            this.files = files.requireReadable();
            X509Certificate own = TlsContexts.readCertificates(files.certificateChain()).get(0);
            Instant now = Instant.now();
            Instant notAfter = own.getNotAfter().toInstant();
            if (now.isAfter(notAfter) || now.isBefore(own.getNotBefore().toInstant())) {
                throw new TlsConfigurationException("certificate " + files.certificateChain() + " is valid only from "
                        + own.getNotBefore().toInstant() + " to " + notAfter + " (now " + now + ")");
            }
            this.identity = PeerIdentity.of(own);
            this.server = TlsContexts.server(files);
            this.channel = NettySslContextChannelCredentials.create(TlsContexts.client(files));
            if (notAfter.isBefore(now.plus(EXPIRY_WARNING))) {
                log.warn("TLS certificate {} expires at {}", files.certificateChain(), notAfter);
            }
            log.info("mutual TLS as {} (certificate {}, valid until {}, trusting {})", identity.describe(),
                    files.certificateChain(), notAfter, files.trustedCa());
        }

        public TlsFiles files() {
            return files;
        }

        @Override
        public ServerCredentials serverCredentials(Duration handshakeTimeout) {
            return ServerHandshake.credentials(server, handshakeTimeout);
        }

        @Override
        public ChannelCredentials channelCredentials() {
            return channel;
        }

        @Override
        public ChannelCredentials channelCredentials(String peerName) {
            return peerName.isEmpty() ? channel : NettySslContextChannelCredentials.create(TlsContexts.client(files, peerName));
        }

        @Override
        public ServerInterceptor authorization(AccessPolicy policy) {
            return AuthorizationInterceptor.requiringCertificates(policy);
        }

        @Override
        public PeerIdentity identity() {
            return identity;
        }
    }

    /** Explicit plaintext (--insecure): for debugging only; says so loudly at start. */
    final class Plaintext implements TransportSecurity {
        private static final Logger log = LoggerFactory.getLogger(Plaintext.class);

        Plaintext(String component) {
            log.warn("{}: INSECURE mode: gRPC without TLS, no peer is authenticated or authorized;"
                    + " anyone who reaches this port can read and control migrated processes", component);
        }

        @Override
        public ServerCredentials serverCredentials(Duration handshakeTimeout) {
            return InsecureServerCredentials.create();
        }

        @Override
        public ChannelCredentials channelCredentials() {
            return InsecureChannelCredentials.create();
        }

        @Override
        public ChannelCredentials channelCredentials(String peerName) {
            return InsecureChannelCredentials.create();
        }

        @Override
        public ServerInterceptor authorization(AccessPolicy policy) {
            return AuthorizationInterceptor.insecure(policy);
        }

        @Override
        public PeerIdentity identity() {
            return PeerIdentity.insecure();
        }
    }
}
