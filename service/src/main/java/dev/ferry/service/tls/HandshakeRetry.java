package dev.ferry.service.tls;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.netty.handler.ssl.SslHandshakeTimeoutException;

/**
 * Repeats a unary call once when its connection's TLS handshake timed out. Netty's client
 * handshake timeout is a fixed 10 s that gRPC does not expose; a fresh JVM on a slow machine (the
 * emulated lab VM) can spend longer than that loading and running its TLS stack for the first
 * handshake to a peer. The call never reached the peer then, so repeating it is safe even for a
 * call that is not idempotent. The repeat waits for the channel's next connection attempt
 * ({@code waitForReady}: that handshake runs on warm code) within what is left of the call's
 * deadline. Any other failure, a refused connection included, is passed on at once.
 *
 * <p>Streaming calls pass through untouched (their messages are not kept for a repeat).
 */
public final class HandshakeRetry implements ClientInterceptor {
    /** True if {@code status} is UNAVAILABLE because a TLS handshake timed out (anywhere in its cause chain). */
    public static boolean timedOut(Status status) {
        if (status.getCode() != Status.Code.UNAVAILABLE) {
            return false;
        }
        for (Throwable c = status.getCause(); c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SslHandshakeTimeoutException) {
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
     * starts it again, once, if the first attempt's connection timed out in its TLS handshake.
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
            ClientCall<Q, R> call = next.newCall(method, callOptions);
            attempt = call;
            Metadata copy = new Metadata();
            copy.merge(headers);
            call.start(mayRepeat ? new FirstAttempt(call) : listener, copy);
            if (requested > 0) {
                call.request(requested);
            }
            call.sendMessage(request);
            call.halfClose();
        }

        /** Passes everything on, but a close for a handshake timeout before any response starts the repeat. */
        private final class FirstAttempt extends Listener<R> {
            private final ClientCall<Q, R> call;
            private boolean answered;

            FirstAttempt(ClientCall<Q, R> call) {
                this.call = call;
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
                if (!answered && !cancelled && attempt == call && timedOut(status)) {
                    begin(options.withWaitForReady(), false);
                    return;
                }
                listener.onClose(status, trailers);
            }
        }
    }
}
