package dev.ferry.service.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authorizes every call on a server: takes the peer's certificate from the TLS session (already
 * verified against Ferry's CA by the TLS handshake, client authentication required), reads its
 * roles, checks them against the {@link AccessPolicy}, and either puts the {@link PeerIdentity}
 * in the gRPC {@link Context} or closes the call: UNAUTHENTICATED when there is no verified
 * certificate, PERMISSION_DENIED when its roles do not allow the method. Each refusal is logged
 * at WARN with the peer address. Runs on the transport thread; does no I/O.
 *
 * <p>Install with {@code ServerInterceptors.intercept(service, interceptor)} or
 * {@code serverBuilder.intercept(interceptor)} on every server.
 */
public final class AuthorizationInterceptor implements ServerInterceptor {

    private static final Logger log = LoggerFactory.getLogger(AuthorizationInterceptor.class);

    private final AccessPolicy policy;
    private final boolean insecure;

    private AuthorizationInterceptor(AccessPolicy policy, boolean insecure) {
        this.policy = policy;
        this.insecure = insecure;
    }

    /** For a server whose transport is mutual TLS: every call must carry a verified certificate. */
    public static AuthorizationInterceptor requiringCertificates(AccessPolicy policy) {
        return new AuthorizationInterceptor(policy, false);
    }

    /**
     * For a server started with the explicit insecure flag: nobody is authenticated, every call
     * runs as {@link PeerIdentity#insecure()}. The transport already logged the warning.
     */
    public static AuthorizationInterceptor insecure(AccessPolicy policy) {
        return new AuthorizationInterceptor(policy, true);
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (insecure) {
            return Contexts.interceptCall(Context.current().withValue(PeerIdentity.CONTEXT_KEY, PeerIdentity.insecure()), call, headers, next);
        }
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return refuse(call, Status.UNAUTHENTICATED, "no TLS session: Ferry servers accept only mutual TLS", method, remote);
        }
        X509Certificate certificate;
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate x509)) {
                return refuse(call, Status.UNAUTHENTICATED, "the client presented no X.509 certificate", method, remote);
            }
            certificate = x509;
        } catch (SSLPeerUnverifiedException e) {
            return refuse(call, Status.UNAUTHENTICATED, "the client presented no verified certificate", method, remote);
        }
        PeerIdentity identity = PeerIdentity.of(certificate);
        var refusal = policy.refusal(method, identity);
        if (refusal.isPresent()) {
            return refuse(call, Status.PERMISSION_DENIED, refusal.get(), method, remote);
        }
        return Contexts.interceptCall(Context.current().withValue(PeerIdentity.CONTEXT_KEY, identity), call, headers, next);
    }

    private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status status, String why, String method, SocketAddress remote) {
        log.warn("refused {} from {}: {} {}", method, remote, status.getCode(), why);
        call.close(status.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() { };
    }
}
