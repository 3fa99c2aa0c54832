package dev.ferry.service.tls;

import dev.ferry.service.auth.AccessPolicy;
import dev.ferry.service.auth.PeerIdentity;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real gRPC server on 127.0.0.1 (Netty, the given transport security and Ferry's access
 * policy) serving every method of Ferry's contracts with a trivial handler that records who
 * called and answers the default response. Stands in for the agent and coordinator services
 * while they are not on main; authorization happens before any handler, so it is what is tested.
 */
final class LoopbackServer implements AutoCloseable {

    /** Who reached a handler: method and the identity the interceptor put in the Context. */
    record Invocation(String method, PeerIdentity identity) { }

    final Queue<Invocation> invocations = new ConcurrentLinkedQueue<>();
    private final Server server;

    LoopbackServer(TransportSecurity security) throws IOException {
        this(security.serverCredentials(), security.authorization(AccessPolicy.ferry()));
    }

    LoopbackServer(ServerCredentials credentials, ServerInterceptor authorization) throws IOException {
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials)
                .intercept(authorization);
        for (ServiceDescriptor service : FerryContracts.SERVICES) {
            builder.addService(recording(service));
        }
        server = builder.build().start();
    }

    int port() {
        return server.getPort();
    }

    /** A channel to this server, addressed as {@code host} (for host name verification). */
    ManagedChannel channel(TransportSecurity client, String host) {
        return NettyChannelBuilder.forAddress(host, port(), client.channelCredentials()).build();
    }

    private ServerServiceDefinition recording(ServiceDescriptor service) {
        ServerServiceDefinition.Builder def = ServerServiceDefinition.builder(service);
        for (MethodDescriptor<?, ?> method : service.getMethods()) {
            addMethod(def, method);
        }
        return def.build();
    }

    private <Q, A> void addMethod(ServerServiceDefinition.Builder def, MethodDescriptor<Q, A> method) {
        @SuppressWarnings("unchecked")
        A reply = (A) ((MethodDescriptor.PrototypeMarshaller<?>) method.getResponseMarshaller()).getMessagePrototype();
        String name = method.getFullMethodName();
        ServerCallHandler<Q, A> handler = switch (method.getType()) {
            case UNARY -> ServerCalls.asyncUnaryCall((req, out) -> answer(name, out, reply));
            case SERVER_STREAMING -> ServerCalls.asyncServerStreamingCall((req, out) -> answer(name, out, reply));
            case CLIENT_STREAMING -> ServerCalls.asyncClientStreamingCall(out -> drain(name, out, reply));
            case BIDI_STREAMING -> ServerCalls.asyncBidiStreamingCall(out -> drain(name, out, reply));
            default -> throw new IllegalStateException("unknown method type " + method.getType());
        };
        def.addMethod(method, handler);
    }

    private <A> void answer(String method, StreamObserver<A> out, A reply) {
        invocations.add(new Invocation(method, PeerIdentity.current().orElse(null)));
        out.onNext(reply);
        out.onCompleted();
    }

    private <Q, A> StreamObserver<Q> drain(String method, StreamObserver<A> out, A reply) {
        PeerIdentity identity = PeerIdentity.current().orElse(null);
        return new StreamObserver<>() {
            @Override
            public void onNext(Q value) {
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
                invocations.add(new Invocation(method, identity));
                out.onNext(reply);
                out.onCompleted();
            }
        };
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
    }
}
