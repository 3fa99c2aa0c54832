package dev.ferry.service.tls;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Calls a method with given messages (then half-close) and returns how it closed, whatever the
 * method's type: the security tests probe every RPC alike. Shared with other modules' security
 * tests through this module's test-jar. The deadline is generous: a refused handshake must show as
 * UNAVAILABLE, and on a host with a load of 25 a TLS handshake alone took over 10 s
 * (DEADLINE_EXCEEDED instead).
 */
public final class Calls {

    private Calls() {
    }

    /** Calls {@code method} with its default request (one message). */
    public static <Q, A> Status call(Channel channel, MethodDescriptor<Q, A> method) throws Exception {
        @SuppressWarnings("unchecked")
        Q request = (Q) ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller()).getMessagePrototype();
        return call(channel, method, List.of(request));
    }

    /** Calls {@code method} with {@code messages}, in order. */
    public static <Q, A> Status call(Channel channel, MethodDescriptor<Q, A> method, List<Q> messages) throws Exception {
        CompletableFuture<Status> closed = new CompletableFuture<>();
        ClientCall<Q, A> call = channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, new Metadata());
        call.request(Integer.MAX_VALUE);
        for (Q m : messages) {
            call.sendMessage(m);
        }
        call.halfClose();
        return closed.get(45, TimeUnit.SECONDS);
    }
}
