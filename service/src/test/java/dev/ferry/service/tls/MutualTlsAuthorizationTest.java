package dev.ferry.service.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.ferry.service.auth.AccessPolicy;
import dev.ferry.service.auth.AuthorizationInterceptor;
import dev.ferry.service.auth.Role;
import dev.ferry.service.logging.CapturedLogs;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettySslContextChannelCredentials;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every method of every Ferry service, on a real gRPC server over loopback with mutual TLS:
 * each role gets exactly what the access table grants; clients without a certificate, with one
 * from another CA, or an expired one are refused before any handler runs; refusals are logged.
 */
class MutualTlsAuthorizationTest {

    @TempDir
    static Path dir;
    @TempDir
    static Path otherDir;

    static DevCertificates certs;
    static CertificateAuthority ca;
    static CertificateAuthority otherCa;
    static LoopbackServer server;

    @RegisterExtension
    final CapturedLogs logged = new CapturedLogs("dev.ferry.service");

    @BeforeAll
    static void certificatesAndServer() throws Exception {
        certs = DevCertificates.createAll(dir, "host1", "host2");
        ca = CertificateAuthority.load(dir);
        otherCa = CertificateAuthority.create("Somebody else's CA", Duration.ofDays(30));
        server = new LoopbackServer(TransportSecurity.mutualTls(certs.agent("host1")));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @BeforeEach
    void clearInvocations() {
        server.invocations.clear();
    }

    /** The access table as the issue states it, written independently of AccessPolicy. */
    static Set<Role> expectedRoles(String method) {
        if (method.startsWith("ferry.v1.SourceAgent/") || method.startsWith("ferry.v1.DestinationAgent/")) {
            return Set.of(Role.COORDINATOR);
        }
        if (method.startsWith("ferry.v1.PageStream/")) {
            return Set.of(Role.AGENT);
        }
        if (method.equals("ferry.v1.Coordinator/StartMigration") || method.equals("ferry.v1.Coordinator/CancelMigration")) {
            return Set.of(Role.OPERATOR);
        }
        if (method.startsWith("ferry.v1.Coordinator/")) {
            return Set.of(Role.OPERATOR, Role.VIEWER);
        }
        throw new AssertionError("a method the test does not know: " + method);
    }

    static TlsFiles filesOf(Role role) {
        return switch (role) {
            case AGENT -> certs.agent("host2");
            case COORDINATOR -> certs.coordinator();
            case OPERATOR -> certs.operator();
            case VIEWER -> certs.viewer();
        };
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void eachRoleReachesExactlyItsMethods(Role role) throws Exception {
        TransportSecurity client = TransportSecurity.mutualTls(filesOf(role));
        ManagedChannel channel = server.channel(client, "localhost");
        try {
            int allowed = 0;
            for (MethodDescriptor<?, ?> method : FerryContracts.methods()) {
                String name = method.getFullMethodName();
                Status status = Calls.call(channel, method);
                if (expectedRoles(name).contains(role)) {
                    allowed++;
                    assertEquals(Status.Code.OK, status.getCode(), role + " -> " + name + ": " + status);
                    LoopbackServer.Invocation last = List.copyOf(server.invocations).get(server.invocations.size() - 1);
                    assertEquals(name, last.method());
                    assertEquals(Set.of(role), last.identity().roles(), "identity in the gRPC Context");
                    assertEquals(client.identity().commonName(), last.identity().commonName());
                } else {
                    assertEquals(Status.Code.PERMISSION_DENIED, status.getCode(), role + " -> " + name + ": " + status);
                    assertTrue(status.getDescription().contains("may not call " + name), status.getDescription());
                }
            }
            assertEquals(allowed, server.invocations.size(), "no refused call reached a handler");
            assertTrue(allowed > 0);
            long refusalsLogged = logged.events().stream().filter(e -> e.getLevel() == Level.WARN
                    && e.getFormattedMessage().startsWith("refused ") && e.getFormattedMessage().contains("PERMISSION_DENIED")).count();
            assertEquals(FerryContracts.methods().size() - allowed, refusalsLogged, "each refusal logged");
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Clients the TLS handshake must refuse, for every method: nothing reaches a handler. */
    @ParameterizedTest
    @ValueSource(strings = {"no certificate", "another CA", "expired", "not yet valid", "plaintext"})
    void refusedClientsReachNoMethod(String kind) throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", server.port(), refusedClient(kind)).build();
        try {
            for (MethodDescriptor<?, ?> method : FerryContracts.methods()) {
                Status status = Calls.call(channel, method);
                assertEquals(Status.Code.UNAVAILABLE, status.getCode(), kind + " -> " + method.getFullMethodName() + ": " + status);
            }
            assertEquals(List.of(), List.copyOf(server.invocations), kind + ": no handler ran");
            if (kind.equals("another CA") || kind.equals("expired") || kind.equals("not yet valid")) {
                assertTrue(logged.events().stream().anyMatch(e -> e.getLevel() == Level.WARN
                        && e.getFormattedMessage().startsWith("TLS refused the client certificate")), kind + ": refusal logged");
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static ChannelCredentials refusedClient(String kind) throws Exception {
        TlsFiles good = certs.coordinator();
        return switch (kind) {
            case "no certificate" -> NettySslContextChannelCredentials.create(GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
                    .trustManager(good.trustedCa().toFile()).build());
            case "another CA" -> withCertificate(otherCa.issue(CertificateRequest.of("coordinator", Role.COORDINATOR,
                    List.of("localhost"), List.of(), Duration.ofDays(1))), "other-ca");
            case "expired" -> withCertificate(ca.issue(CertificateRequest.of("coordinator", Role.COORDINATOR, List.of("localhost"), List.of(), Duration.ofDays(1))
                    .withValidity(Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1)))), "expired");
            case "not yet valid" -> withCertificate(ca.issue(CertificateRequest.of("coordinator", Role.COORDINATOR, List.of("localhost"), List.of(), Duration.ofDays(1))
                    .withValidity(Instant.now().plus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(10)))), "future");
            case "plaintext" -> InsecureChannelCredentials.create();
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /**
     * A client presenting {@code issued} whatever the server asks for, and trusting Ferry's real
     * CA (so only its own certificate is at fault).
     */
    private static ChannelCredentials withCertificate(IssuedCertificate issued, String subdir) throws Exception {
        return NettySslContextChannelCredentials.create(GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
                .keyManager(new PresentingKeyManager(issued)).trustManager(dir.resolve("ca.crt").toFile()).protocols("TLSv1.3").build());
    }

    @Test
    void expiredOwnCertificateStopsTheProcessAtStart() throws Exception {
        TlsFiles expired = ca.issue(CertificateRequest.of("old", Role.AGENT, List.of("localhost"), List.of(), Duration.ofDays(1))
                .withValidity(Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1)))).writeTo(dir, true);
        TlsConfigurationException e = assertThrows(TlsConfigurationException.class, () -> TransportSecurity.mutualTls(expired));
        assertTrue(e.getMessage().contains("is valid only from"), e.getMessage());
    }

    @Test
    void missingFilesAreNamed() {
        TlsFiles missing = TlsFiles.inDirectory(dir, "nobody");
        TlsConfigurationException e = assertThrows(TlsConfigurationException.class, () -> TransportSecurity.mutualTls(missing));
        assertTrue(e.getMessage().contains("nobody.crt"), e.getMessage());
    }

    @Test
    void clientRefusesAServerFromAnotherCa() throws Exception {
        IssuedCertificate impostor = otherCa.issue(CertificateRequest.of("host1", Role.AGENT, List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1)));
        Path d = otherDir.resolve("impostor");
        TlsFiles own = impostor.writeTo(d, true);
        // The impostor trusts Ferry's CA, so it would accept our client; our client must refuse it.
        try (LoopbackServer fake = new LoopbackServer(TransportSecurity.mutualTls(new TlsFiles(own.certificateChain(), own.privateKey(), dir.resolve("ca.crt"))))) {
            ManagedChannel channel = fake.channel(TransportSecurity.mutualTls(certs.coordinator()), "localhost");
            try {
                Status status = Calls.call(channel, FerryContracts.methods().get(0));
                assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
                assertTrue(fake.invocations.isEmpty());
                assertTrue(logged.events().stream().anyMatch(e -> e.getFormattedMessage().startsWith("TLS refused the server certificate")));
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void clientVerifiesTheServerHostName() throws Exception {
        TlsFiles elsewhere = ca.issue(CertificateRequest.of("elsewhere", Role.AGENT, List.of("elsewhere.example"), List.of(), Duration.ofDays(1)))
                .writeTo(dir, true);
        try (LoopbackServer other = new LoopbackServer(TransportSecurity.mutualTls(elsewhere))) {
            TransportSecurity coordinator = TransportSecurity.mutualTls(certs.coordinator());
            MethodDescriptor<?, ?> describe = dev.ferry.proto.SourceAgentGrpc.getDescribeMethod();
            ManagedChannel wrongName = other.channel(coordinator, "localhost");
            ManagedChannel rightName = NettyChannelBuilder.forAddress("localhost", other.port(), coordinator.channelCredentials())
                    .overrideAuthority("elsewhere.example:" + other.port()).build();
            try {
                assertEquals(Status.Code.UNAVAILABLE, Calls.call(wrongName, describe).getCode(), "certificate does not name localhost");
                assertEquals(Status.Code.OK, Calls.call(rightName, describe).getCode(), "certificate names elsewhere.example");
            } finally {
                wrongName.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                rightName.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aServerWithoutTlsRefusesEveryCallAsUnauthenticated() throws Exception {
        // Misconfiguration guard: the interceptor demands a TLS session even if the transport has none.
        try (LoopbackServer plain = new LoopbackServer(InsecureServerCredentials.create(),
                AuthorizationInterceptor.requiringCertificates(AccessPolicy.ferry()))) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", plain.port(), InsecureChannelCredentials.create()).build();
            try {
                for (MethodDescriptor<?, ?> method : FerryContracts.methods()) {
                    Status status = Calls.call(channel, method);
                    assertEquals(Status.Code.UNAUTHENTICATED, status.getCode());
                    assertTrue(status.getDescription().contains("no TLS session"), status.getDescription());
                }
                assertTrue(plain.invocations.isEmpty());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void insecureModeWarnsAndServesEveryoneAsTheInsecureIdentity() throws Exception {
        TransportSecurity insecure = TransportSecurity.insecure("test agent");
        assertTrue(logged.events().stream().anyMatch(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains("INSECURE mode")));
        try (LoopbackServer plain = new LoopbackServer(insecure)) {
            ManagedChannel channel = plain.channel(insecure, "127.0.0.1");
            try {
                Status status = Calls.call(channel, dev.ferry.proto.CoordinatorGrpc.getStartMigrationMethod());
                assertEquals(Status.Code.OK, status.getCode());
                assertFalse(plain.invocations.peek().identity().verified());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        // and a TLS client cannot talk to it by mistake
        assertNotEquals(insecure, TransportSecurity.mutualTls(certs.operator()));
    }
}
