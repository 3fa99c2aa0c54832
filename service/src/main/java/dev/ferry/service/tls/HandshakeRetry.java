package dev.ferry.service.tls;

import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientStreamTracer;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;

/**
 * Repeats a unary call once when it provably never reached the server: its connection failed
 * before any stream of the call was created on it. gRPC creates a call's stream on a connection
 * only once that connection is ready, i.e. after the TLS handshake AND the server's first HTTP/2
 * SETTINGS frame (which the server sends only after its own side of the handshake): a
 * {@link ClientStreamTracer} sees that moment ({@code streamCreated}). Two failures of this kind
 * were seen under emulation (the lab VM), where a fresh JVM's first TLS handshake is slow:
 * <ul>
 *   <li>the client's own handshake timed out (Netty's fixed 10 s on the client side);
 *   <li>the server's handshake timed out or failed after the client's had finished (with TLS 1.3
 *       the server checks the client's certificate one flight later): the client saw only
 *       "Network closed for unknown reason".
 * </ul>
 * The repeat is safe even for a call that is not idempotent: the server's application never saw
 * it. It waits for the channel's next connection attempt ({@code waitForReady}: that handshake
 * runs on warm code) within what is left of the call's deadline. Any call whose stream was
 * created is never repeated, whatever happened next; a refused connection or an unknown host is
 * passed on at once (nothing is listening there: waiting would only delay the error).
 *
 * <p>A failure before the call reached the server gets a description naming the server and the
 * TLS handshake, e.g. "TLS handshake with 127.0.0.1:7000 did not finish: handshake timed out
 * after 10000ms".
 *
 * <p>Streaming calls pass through untouched (their messages are not kept for a repeat).
 */
public final class HandshakeRetry implements ClientInterceptor {
    /** True if {@code status} is UNAVAILABLE because a TLS handshake timed out (anywhere in its cause chain). */
    public static boolean timedOut(Status status) {
        return status.getCode() == Status.Code.UNAVAILABLE && causedBy(status, SslHandshakeTimeoutException.class);
    }

    /**
     * True if a call that failed with {@code status} before reaching the server may be repeated:
     * UNAVAILABLE, and not because nothing listens at the address or the name is unknown.
     */
    static boolean repeatable(Status status) {
        return status.getCode() == Status.Code.UNAVAILABLE && !causedBy(status, ConnectException.class)
                && !causedBy(status, NoRouteToHostException.class) && !causedBy(status, UnknownHostException.class)
                && !causedBy(status, UnresolvedAddressException.class);
    }

    /** {@code status} of a call that never reached {@code server}, described so that an operator sees the hop and the cause. */
    static Status undelivered(Status status, String server) {
        if (!repeatable(status)) {
            return status;
        }
        String cause = status.getDescription() != null ? status.getDescription()
                : status.getCause() != null ? ServerHandshake.rootMessage(status.getCause()) : "connection failed";
        if (timedOut(status)) {
            Throwable t = status.getCause();
            while (t != null && !(t instanceof SslHandshakeTimeoutException)) {
                t = t.getCause();
            }
            return status.withDescription("TLS handshake with " + server + " did not finish: " + t.getMessage());
        }
        return status.withDescription("the call did not reach " + server + ": its connection closed before the server "
                + "finished the TLS handshake (" + cause + "; the server's log names the cause)");
    }

    private static boolean causedBy(Status status, Class<? extends Throwable> type) {
        for (Throwable c = status.getCause(); c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        if (method.getType() != MethodDescriptor.MethodType.UNARY || options.isWaitForReady()) {
            return next.newCall(method, options); // already waits for a ready connection: nothing to repeat
        }
        return new RepeatableUnaryCall<>(method, options, next);
    }

    /**
     * A unary call that starts its attempt at {@code halfClose} (when the one request is known) and
     * starts it again, once, if the first attempt failed before its stream reached a connection.
     * The application's methods come from one thread at a time (the ClientCall contract); the
     * repeat starts from the first attempt's {@code onClose}, after the application's last call
     * (halfClose), so the two never touch the same attempt at once but for {@code cancel} and
     * {@code request}, which read the volatile {@link #attempt}.
     */
    private static final class RepeatableUnaryCall<Q, R> extends ClientCall<Q, R> {
        private final MethodDescriptor<Q, R> method;
        private final CallOptions options;
        private final Channel next;
        private Listener<R> listener;
        private Metadata headers;
        private Q request;
        private int requested;
        private volatile ClientCall<Q, R> attempt;
        private volatile boolean cancelled;

        RepeatableUnaryCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            this.method = method;
            this.options = options;
            this.next = next;
        }

        @Override
        public void start(Listener<R> responseListener, Metadata metadata) {
            this.listener = responseListener;
            this.headers = metadata;
        }

        @Override
        public void request(int numMessages) {
            requested += numMessages; // all of them: a repeat asks for as many again
            ClientCall<Q, R> a = attempt;
            if (a != null) {
                a.request(numMessages);
            }
        }

        @Override
        public void sendMessage(Q message) {
            if (request != null) {
                throw new IllegalStateException("a unary call sends one message");
            }
            request = message;
        }

        @Override
        public void halfClose() {
            if (cancelled) {
                return;
            }
            begin(options, true);
        }

        @Override
        public void cancel(String message, Throwable cause) {
            cancelled = true;
            ClientCall<Q, R> a = attempt;
            if (a != null) {
                a.cancel(message, cause);
            } else if (listener != null) {
                listener.onClose(Status.CANCELLED.withDescription(message).withCause(cause), new Metadata());
            }
        }

        @Override
        public boolean isReady() {
            ClientCall<Q, R> a = attempt;
            return a != null && a.isReady();
        }

        private void begin(CallOptions callOptions, boolean mayRepeat) {
            Delivery delivery = new Delivery();
            ClientCall<Q, R> call = next.newCall(method, callOptions.withStreamTracerFactory(delivery));
            attempt = call;
            Metadata copy = new Metadata();
            copy.merge(headers);
            call.start(new Attempt(call, delivery, mayRepeat), copy);
            if (requested > 0) {
                call.request(requested);
            }
            call.sendMessage(request);
            call.halfClose();
        }

        /**
         * Passes everything on; a first attempt that failed before its stream reached a connection
         * starts the repeat instead, and a failure before the server describes the hop.
         */
        private final class Attempt extends Listener<R> {
            private final ClientCall<Q, R> call;
            private final Delivery delivery;
            private final boolean mayRepeat;
            private boolean answered;

            Attempt(ClientCall<Q, R> call, Delivery delivery, boolean mayRepeat) {
                this.call = call;
                this.delivery = delivery;
                this.mayRepeat = mayRepeat;
            }

            @Override
            public void onHeaders(Metadata metadata) {
                answered = true;
                listener.onHeaders(metadata);
            }

            @Override
            public void onMessage(R message) {
                answered = true;
                listener.onMessage(message);
            }

            @Override
            public void onReady() {
                listener.onReady();
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                boolean undelivered = !answered && !delivery.reached;
                if (undelivered && mayRepeat && !cancelled && attempt == call && repeatable(status)) {
                    begin(options.withWaitForReady(), false);
                    return;
                }
                listener.onClose(undelivered ? undelivered(status, next.authority()) : status, trailers);
            }
        }
    }

    /**
     * Records whether a stream of the call was created on a connection (one that had finished
     * its TLS handshake and received the server's settings): from then on the server may have
     * the call. Set on a transport thread, read in onClose (after it, on the call's executor).
     */
    private static final class Delivery extends ClientStreamTracer.Factory {
        private volatile boolean reached;

        @Override
        public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
            return new ClientStreamTracer() {
                @Override
                public void streamCreated(Attributes transportAttributes, Metadata metadata) {
                    reached = true;
                }
            };
        }
    }
}
