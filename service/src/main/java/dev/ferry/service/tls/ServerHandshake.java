package dev.ferry.service.tls;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.InternalChannelz;
import io.grpc.SecurityLevel;
import io.grpc.ServerCredentials;
import io.grpc.Status;
import io.grpc.internal.GrpcAttributes;
import io.grpc.internal.ObjectPool;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.ProtocolNegotiationEvent;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.AsciiString;
import java.time.Duration;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server credentials for gRPC over TLS whose handshakes may take {@code handshakeTimeout}, and
 * whose failed handshakes are logged. gRPC's own TLS server credentials put a Netty
 * {@link SslHandler} in front of every connection with Netty's fixed 10 s handshake timeout,
 * which gRPC does not expose (its builder's {@code handshakeTimeout} is a second, outer limit).
 * With TLS 1.3 and client certificates the client's side of the handshake ends one flight
 * before the server's: the server still verifies the client's certificate after the client
 * has sent its request. A cold JVM under emulation (the lab VM) outlasted those 10 s on its first
 * handshake; the server then closed a connection the client already took for established, and
 * the client saw only "UNAVAILABLE: Network closed for unknown reason", with nothing in the
 * server's log (gRPC logs handshake failures at FINE). Here the limit is the deployment's (scaled
 * like every deadline) and each failure is a log line naming the peer and the cause.
 *
 * <p>The negotiation is gRPC's server TLS negotiation rebuilt from grpc-netty's {@code Internal*}
 * pieces (public, outside gRPC's stability promise: check when upgrading grpc): wait until the
 * connection is active, run the TLS handshake, check ALPN chose h2, hand the session to gRPC's
 * HTTP/2 handler. All of it on the connection's event loop; the JDK engine's delegated tasks
 * (certificate checks) run on gRPC's offload executor when the server has one.
 */
public final class ServerHandshake {
    /** Netty's own default, kept where nothing is scaled (tests, a native host with scale 1). */
    public static final Duration NETTY_DEFAULT = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(ServerHandshake.class);
    private static final AsciiString HTTPS = AsciiString.of("https");

    private ServerHandshake() {
    }

    /** TLS server credentials from {@code context} (a server context with ALPN h2) with the given handshake limit. */
    public static ServerCredentials credentials(SslContext context, Duration handshakeTimeout) {
        if (!context.isServer()) {
            throw new IllegalArgumentException("a server TLS context is needed");
        }
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshake timeout must be positive, got " + handshakeTimeout);
        }
        return InternalNettyServerCredentials.create(new InternalProtocolNegotiator.ServerFactory() {
            @Override
            public InternalProtocolNegotiator.ProtocolNegotiator newNegotiator(ObjectPool<? extends Executor> offloadPool) {
                return new Negotiator(context, handshakeTimeout, offloadPool);
            }
        });
    }

    /** How an operator reads a handshake limit: "10 s", "100 s", "1.5 s". */
    static String describe(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    /** One per server; hands each new connection a handler. Thread-safe (immutable but for the pooled executor). */
    private static final class Negotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
        private final SslContext context;
        private final Duration timeout;
        private final ObjectPool<? extends Executor> offloadPool;
        private final Executor offload;

        Negotiator(SslContext context, Duration timeout, ObjectPool<? extends Executor> offloadPool) {
            this.context = context;
            this.timeout = timeout;
            this.offloadPool = offloadPool;
            this.offload = offloadPool == null ? null : offloadPool.getObject();
        }

        @Override
        public AsciiString scheme() {
            return HTTPS;
        }

        @Override
        public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
            ChannelHandler grpc = InternalProtocolNegotiators.grpcNegotiationHandler(grpcHandler);
            return InternalProtocolNegotiators.waitUntilActiveHandler(
                    new TlsHandler(grpc, context, timeout, offload), grpcHandler.getNegotiationLogger());
        }

        @Override
        public void close() {
            if (offloadPool != null && offload != null) {
                offloadPool.returnObject(offload);
            }
        }
    }

    /**
     * One connection's TLS: adds the SslHandler (with the limit) in front of itself, then on
     * success replaces itself with gRPC's HTTP/2 handler and passes on the negotiation event with
     * the TLS session (the authorization interceptor reads the peer's certificate from it).
     * Event loop only.
     */
    private static final class TlsHandler extends ChannelInboundHandlerAdapter {
        private final ChannelHandler next;
        private final SslContext context;
        private final Duration timeout;
        private final Executor offload;
        private ProtocolNegotiationEvent negotiation = InternalProtocolNegotiationEvent.getDefault();

        TlsHandler(ChannelHandler next, SslContext context, Duration timeout, Executor offload) {
            this.next = next;
            this.context = context;
            this.timeout = timeout;
            this.offload = offload;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
            super.handlerAdded(ctx);
            SSLEngine engine = context.newEngine(ctx.alloc());
            SslHandler ssl = offload == null ? new SslHandler(engine, false) : new SslHandler(engine, false, offload);
            // before it joins the pipeline: the handshake (and its timer) starts as it is added
            ssl.setHandshakeTimeoutMillis(timeout.toMillis());
            ctx.pipeline().addBefore(ctx.name(), null, ssl);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof ProtocolNegotiationEvent pne) {
                negotiation = pne; // passed on, with the session, once the handshake is done
            } else if (event instanceof SslHandshakeCompletionEvent done) {
                if (!done.isSuccess()) {
                    logFailure(ctx, done.cause());
                    ctx.fireExceptionCaught(done.cause());
                    return;
                }
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                String protocol = ssl.applicationProtocol();
                if (!context.applicationProtocolNegotiator().protocols().contains(protocol)) {
                    log.warn("TLS client {} negotiated no HTTP/2 (ALPN: {}): connection closed", ctx.channel().remoteAddress(), protocol);
                    ctx.fireExceptionCaught(Status.UNAVAILABLE
                            .withDescription("Failed protocol negotiation: Unable to find compatible protocol").asRuntimeException());
                    return;
                }
                ctx.pipeline().replace(ctx.name(), null, next);
                SSLSession session = ssl.engine().getSession();
                Attributes attributes = InternalProtocolNegotiationEvent.getAttributes(negotiation).toBuilder()
                        .set(GrpcAttributes.ATTR_SECURITY_LEVEL, SecurityLevel.PRIVACY_AND_INTEGRITY)
                        .set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session)
                        .build();
                ctx.fireUserEventTriggered(InternalProtocolNegotiationEvent.withSecurity(
                        InternalProtocolNegotiationEvent.withAttributes(negotiation, attributes),
                        new InternalChannelz.Security(new InternalChannelz.Tls(session))));
            } else {
                super.userEventTriggered(ctx, event);
            }
        }

        /** A timeout is WARN (the limit may be too short for this machine); a refused certificate was logged by the trust manager. */
        private void logFailure(ChannelHandlerContext ctx, Throwable cause) {
            Object peer = ctx.channel().remoteAddress();
            if (cause instanceof SslHandshakeTimeoutException) {
                log.warn("TLS handshake with client {} did not finish within {}: connection closed (on a slow or "
                        + "emulated machine raise FERRY_DEADLINE_SCALE)", peer, describe(timeout));
            } else {
                log.info("TLS handshake with client {} failed: {}", peer, rootMessage(cause));
            }
        }
    }

    static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c.getMessage();
        return m == null || m.isBlank() ? c.getClass().getSimpleName() : c.getClass().getSimpleName() + ": " + m;
    }
}
