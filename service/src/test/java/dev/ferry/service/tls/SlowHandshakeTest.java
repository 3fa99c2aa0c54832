package dev.ferry.service.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.StartMigrationRequest;
import dev.ferry.service.auth.AccessPolicy;
import dev.ferry.service.auth.AuthorizationInterceptor;
import dev.ferry.service.logging.CapturedLogs;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.NettySslContextChannelCredentials;
import io.grpc.stub.ServerCalls;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lab's intermittent "UNAVAILABLE: Network closed for unknown reason" on a CLI's first call,
 * on a real gRPC server over loopback with real mutual TLS. The mechanism: the side of a TLS
 * handshake that is busy computing (a cold JVM verifying certificates on its event loop) cannot
 * run its own handshake timer, but the side that waits for it can: the server's Netty timer
 * (a fixed 10 s) closes the connection while the client still works through the server's
 * flight; the client then finishes its side (TLS 1.3), sees the connection closed before the
 * server's HTTP/2 settings, and the call fails without ever reaching the server. A client whose
 * server-certificate check is slowed stands in for the cold JVM.
 */
class SlowHandshakeTest {

    @TempDir
    static Path dir;
    static DevCertificates certs;

    @RegisterExtension
    final CapturedLogs logged = new CapturedLogs("dev.ferry.service.tls");

    @BeforeAll
    static void certificates() {
        certs = DevCertificates.createAll(dir, "host1");
    }

    /** Fails with Netty's fixed 10 s server limit: the client's first handshake takes 11 s. */
    @Test
    void aHandshakeSlowerThanNettysTenSecondsSucceedsWithinTheServersLimit() throws Exception {
        TransportSecurity agent = TransportSecurity.mutualTls(certs.agent("host1"));
        try (LoopbackServer server = new LoopbackServer(agent.serverCredentials(Duration.ofSeconds(60)),
                agent.authorization(AccessPolicy.ferry()))) {
            ManagedChannel plain = slowClient(server.port(), Duration.ofSeconds(11));
            try {
                // no HandshakeRetry here: the first connection itself must get through
                Status status = Calls.call(plain, CoordinatorGrpc.getListAgentsMethod());
                assertEquals(Status.Code.OK, status.getCode(), status.toString());
                assertEquals(1, server.invocations.size());
            } finally {
                plain.shutdownNow();
            }
        }
    }

    /**
     * The server's limit (here 1 s) closes the slow first connection; the call never reached the
     * server, so the client repeats it once on the next connection, and the server says why.
     */
    @Test
    void aCallTheServerClosedDuringItsHandshakeIsRepeatedOnceAndTheServerLogsWhy() throws Exception {
        TransportSecurity agent = TransportSecurity.mutualTls(certs.agent("host1"));
        try (LoopbackServer server = new LoopbackServer(agent.serverCredentials(Duration.ofSeconds(1)),
                agent.authorization(AccessPolicy.ferry()))) {
            ManagedChannel plain = slowClient(server.port(), Duration.ofSeconds(3));
            try {
                Status first = Calls.call(plain, CoordinatorGrpc.getListAgentsMethod());
                assertEquals(Status.Code.UNAVAILABLE, first.getCode(), "the mechanism: " + first);
                assertEquals(0, server.invocations.size(), "never reached the server");
                assertTrue(logged.events().stream().anyMatch(e -> e.getLevel() == Level.WARN
                        && e.getFormattedMessage().startsWith("TLS handshake with client /127.0.0.1:")
                        && e.getFormattedMessage().contains("did not finish within 1 s")), "the server's log says why");
            } finally {
                plain.shutdownNow();
            }
            ManagedChannel slowAgain = slowClient(server.port(), Duration.ofSeconds(3));
            try {
                Channel retrying = ClientInterceptors.intercept(slowAgain, new HandshakeRetry());
                Status status = Calls.call(retrying, CoordinatorGrpc.getStartMigrationMethod());
                assertEquals(Status.Code.OK, status.getCode(), status.toString());
                assertEquals(1, server.invocations.size(), "applied exactly once");
            } finally {
                slowAgain.shutdownNow();
            }
        }
    }

    /** A call the server took is never repeated, whatever happens to its connection afterwards. */
    @Test
    void aCallThatReachedTheServerIsNotRepeatedWhenItsConnectionDrops() throws Exception {
        AtomicInteger taken = new AtomicInteger();
        CountDownLatch inHandler = new CountDownLatch(1);
        ServerServiceDefinition holding = ServerServiceDefinition.builder(CoordinatorGrpc.SERVICE_NAME)
                .addMethod(CoordinatorGrpc.getStartMigrationMethod(),
                        ServerCalls.<StartMigrationRequest, MigrationInfo>asyncUnaryCall((request, out) -> {
                            taken.incrementAndGet();
                            inHandler.countDown(); // and never answers
                        }))
                .build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
                .intercept(AuthorizationInterceptor.insecure(AccessPolicy.ferry()))
                .addService(holding).build().start();
        CuttableRelay relay = new CuttableRelay(server.getPort());
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", relay.port(), InsecureChannelCredentials.create()).build();
        try {
            Channel retrying = ClientInterceptors.intercept(channel, new HandshakeRetry());
            CompletableFuture<Status> closed = CompletableFuture.supplyAsync(() -> {
                try {
                    return Calls.call(retrying, CoordinatorGrpc.getStartMigrationMethod());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(inHandler.await(20, TimeUnit.SECONDS), "the call reached the handler");
            relay.close(); // the connection drops as when the server's TLS handshake timed out: no GOAWAY, no RST_STREAM
            Status status = closed.get(60, TimeUnit.SECONDS);
            assertEquals(Status.Code.UNAVAILABLE, status.getCode(), "passed on at once, not repeated until the deadline: " + status);
            assertEquals(1, taken.get());
        } finally {
            channel.shutdownNow();
            relay.close();
            server.shutdownNow();
        }
    }

    /**
     * A TCP relay on 127.0.0.1 to a server's port, whose connections can be cut at once (both
     * sockets closed): the client sees its connection end without any HTTP/2 farewell. One
     * thread per direction; closed sockets end them.
     */
    private static final class CuttableRelay implements AutoCloseable {
        private final ServerSocket listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final Queue<Socket> sockets = new ConcurrentLinkedQueue<>();

        CuttableRelay(int target) throws IOException {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        Socket client = listening.accept();
                        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                        sockets.add(client);
                        sockets.add(upstream);
                        pump(client, upstream);
                        pump(upstream, client);
                    }
                } catch (IOException closed) {
                    // the relay was closed
                }
            }, "relay-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listening.getLocalPort();
        }

        private static void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                try {
                    from.getInputStream().transferTo(to.getOutputStream());
                } catch (IOException closed) {
                    // cut
                }
            }, "relay-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            listening.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** An operator's mutual-TLS client whose first check of the server's certificate takes {@code firstCheck}. */
    private static ManagedChannel slowClient(int port, Duration firstCheck) throws Exception {
        TlsFiles files = certs.operator();
        SslContext context = GrpcSslContexts.configure(SslContextBuilder.forClient()
                        .keyManager(files.certificateChain().toFile(), files.privateKey().toFile()), SslProvider.JDK)
                .trustManager(new SlowFirstCheck(TlsContexts.trustManager(files.trustedCa()), firstCheck))
                .protocols(TlsContexts.PROTOCOLS)
                .build();
        return NettyChannelBuilder.forAddress("127.0.0.1", port, NettySslContextChannelCredentials.create(context)).build();
    }

    /**
     * Stands in for a cold JVM on an emulated CPU: its first server-certificate check takes a
     * while, on the connection's event loop (where the JDK engine's delegated tasks run), so the
     * client's own handshake timer cannot fire meanwhile, as in the lab. A deliberate delay, not a
     * wait for a condition.
     */
    private static final class SlowFirstCheck extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        private final Duration firstCheck;
        private final AtomicInteger checks = new AtomicInteger();

        SlowFirstCheck(X509ExtendedTrustManager delegate, Duration firstCheck) {
            this.delegate = delegate;
            this.firstCheck = firstCheck;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            if (checks.getAndIncrement() == 0) {
                try {
                    Thread.sleep(firstCheck.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            delegate.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            delegate.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
