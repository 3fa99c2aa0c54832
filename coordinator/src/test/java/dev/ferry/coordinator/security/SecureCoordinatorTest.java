package dev.ferry.coordinator.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import dev.ferry.agent.Agent;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.coordinator.service.GrpcEndpoints;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.proto.AgentStatus;
import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.ListAgentsRequest;
import dev.ferry.service.auth.Role;
import dev.ferry.service.logging.CapturedLogs;
import dev.ferry.service.tls.Calls;
import dev.ferry.service.tls.CertificateAuthority;
import dev.ferry.service.tls.CertificateRequest;
import dev.ferry.service.tls.DevCertificates;
import dev.ferry.service.tls.IssuedCertificate;
import dev.ferry.service.tls.PresentingKeyManager;
import dev.ferry.service.tls.TlsFiles;
import dev.ferry.service.tls.TransportSecurity;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.service.zookeeper.ZooKeeperCredentials;
import dev.ferry.testkit.Await;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettySslContextChannelCredentials;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real coordinator with mutual TLS and ZooKeeper ACLs (embedded ZooKeeper, two real agents
 * with their own certificates, all on loopback): every Coordinator method admits exactly the
 * roles the issue names, refuses clients without a certificate, from another CA, with an expired
 * one or in plaintext; the coordinator reaches its agents over mTLS; and a ZooKeeper client
 * without Ferry's secret can neither read nor change Ferry's znodes.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SecureCoordinatorTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir static Path dir;
  static DevCertificates certs;
  static CertificateAuthority ca;
  static ZooKeeperCredentials zkSecret;
  static EmbeddedZooKeeper zk;
  static final List<Agent> agents = new ArrayList<>();
  static Coordinator coordinator;
  static int port;

  @RegisterExtension
  final CapturedLogs logged = new CapturedLogs("dev.ferry.service");

  @BeforeAll
  static void cluster() throws Exception {
    certs = DevCertificates.createAll(dir.resolve("certs"), "host1", "host2");
    ca = CertificateAuthority.load(dir.resolve("certs"));
    zkSecret = ZooKeeperCredentials.createSecretFile(dir.resolve("zk-secret"), "ferry");
    // A plain server (no enforced authentication), as an external ensemble: the ACLs alone protect Ferry.
    zk = EmbeddedZooKeeper.persistent(dir.resolve("zk"), EmbeddedZooKeeper.freePort(), new java.util.Properties());
    zk.serve(Duration.ofSeconds(30));
    for (String host : List.of("host1", "host2")) {
      Agent a = Agent.start(Agent.Config.of(host, new InetSocketAddress("127.0.0.1", 0), dir.resolve(host))
          .withSecurity(TransportSecurity.mutualTls(certs.agent(host)))
          .withZookeeper(zk.connectString(), "/ferry").withZookeeperCredentials(zkSecret));
      agents.add(a);
      assertTrue(a.awaitRegistered(WAIT), host + " registered");
    }
    coordinator = new Coordinator(new Coordinator.Config(new InetSocketAddress("127.0.0.1", 0), zk.connectString(),
        new ZkLayout("/ferry"), Duration.ofSeconds(15), new GrpcEndpoints(1, TransportSecurity.mutualTls(certs.coordinator())),
        zkSecret)).start();
    port = Integer.parseInt(coordinator.address().substring(coordinator.address().lastIndexOf(':') + 1));
    Await.until("coordinator elected", coordinator::isLeader, WAIT);
  }

  @AfterAll
  static void stop() throws Exception {
    if (coordinator != null) {
      coordinator.close();
    }
    for (Agent a : agents) {
      a.close();
    }
    if (zk != null) {
      zk.close();
    }
  }

  /** The roles the issue names for each Coordinator method, written independently of AccessPolicy. */
  static Set<Role> expectedRoles(MethodDescriptor<?, ?> method) {
    String name = method.getBareMethodName();
    return switch (name) {
      case "StartMigration", "CancelMigration" -> Set.of(Role.OPERATOR);
      case "WatchMigration", "GetMigration", "ListMigrations", "ListAgents" -> Set.of(Role.OPERATOR, Role.VIEWER);
      default -> throw new AssertionError("a Coordinator method this test does not know: " + name);
    };
  }

  static List<MethodDescriptor<?, ?>> coordinatorMethods() {
    List<MethodDescriptor<?, ?>> methods = new ArrayList<>();
    CoordinatorGrpc.getServiceDescriptor().getMethods().forEach(methods::add);
    assertEquals(6, methods.size(), "the test covers every Coordinator method");
    return methods;
  }

  static TlsFiles filesOf(Role role) {
    return switch (role) {
      case AGENT -> certs.agent("host2");
      case COORDINATOR -> certs.coordinator();
      case OPERATOR -> certs.operator();
      case VIEWER -> certs.viewer();
    };
  }

  static ManagedChannel channel(ChannelCredentials credentials) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port, credentials).build();
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void eachRoleReachesExactlyItsCoordinatorMethods(Role role) throws Exception {
    ManagedChannel channel = channel(TransportSecurity.mutualTls(filesOf(role)).channelCredentials());
    try {
      int refused = 0;
      for (MethodDescriptor<?, ?> method : coordinatorMethods()) {
        Status status = Calls.call(channel, method);
        String what = role + " -> " + method.getFullMethodName() + ": " + status;
        if (expectedRoles(method).contains(role)) {
          // Reached the real handler, which judges the empty request on its merits.
          assertFalse(Set.of(Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED, Status.Code.UNAVAILABLE,
              Status.Code.UNKNOWN).contains(status.getCode()), what);
        } else {
          refused++;
          assertEquals(Status.Code.PERMISSION_DENIED, status.getCode(), what);
          assertTrue(status.getDescription().contains("may not call " + method.getFullMethodName()), what);
        }
      }
      int expectedRefusals = role == Role.OPERATOR ? 0 : role == Role.VIEWER ? 2 : 6;
      assertEquals(expectedRefusals, refused, role.toString());
      long refusalsLogged = logged.events().stream().filter(e -> e.getLevel() == Level.WARN
          && e.getFormattedMessage().startsWith("refused ferry.v1.Coordinator/")
          && e.getFormattedMessage().contains("PERMISSION_DENIED")).count();
      assertEquals(expectedRefusals, refusalsLogged, "each refusal logged");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Clients the TLS handshake refuses: no Coordinator method runs for them. */
  @ParameterizedTest
  @ValueSource(strings = {"no certificate", "another CA", "expired", "plaintext"})
  void refusedClientsReachNoCoordinatorMethod(String kind) throws Exception {
    ManagedChannel channel = channel(refusedClient(kind));
    try {
      for (MethodDescriptor<?, ?> method : coordinatorMethods()) {
        Status status = Calls.call(channel, method);
        assertEquals(Status.Code.UNAVAILABLE, status.getCode(), kind + " -> " + method.getFullMethodName() + ": " + status);
      }
      if (!kind.equals("plaintext") && !kind.equals("no certificate")) {
        assertTrue(logged.events().stream().anyMatch(e -> e.getLevel() == Level.WARN
            && e.getFormattedMessage().startsWith("TLS refused the client certificate")), kind + ": refusal logged");
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    // and the coordinator keeps serving the right clients
    ManagedChannel viewer = channel(TransportSecurity.mutualTls(certs.viewer()).channelCredentials());
    try {
      assertEquals(Status.Code.OK, Calls.call(viewer, CoordinatorGrpc.getListMigrationsMethod()).getCode());
    } finally {
      viewer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static ChannelCredentials refusedClient(String kind) throws Exception {
    Path caPem = certs.coordinator().trustedCa();
    return switch (kind) {
      case "no certificate" -> NettySslContextChannelCredentials.create(GrpcSslContexts.configure(SslContextBuilder.forClient(),
          SslProvider.JDK).trustManager(caPem.toFile()).build());
      case "another CA" -> presenting(CertificateAuthority.create("Somebody else's CA", Duration.ofDays(30))
          .issue(CertificateRequest.of("operator", Role.OPERATOR, List.of("localhost"), List.of(), Duration.ofDays(1))), caPem);
      case "expired" -> presenting(ca.issue(CertificateRequest.of("operator", Role.OPERATOR, List.of("localhost"), List.of(),
          Duration.ofDays(1)).withValidity(Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1)))), caPem);
      case "plaintext" -> InsecureChannelCredentials.create();
      default -> throw new IllegalArgumentException(kind);
    };
  }

  /** A client presenting {@code issued} and trusting Ferry's real CA (so only its own certificate is at fault). */
  private static ChannelCredentials presenting(IssuedCertificate issued, Path caPem) throws Exception {
    return NettySslContextChannelCredentials.create(GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
        .keyManager(new PresentingKeyManager(issued)).trustManager(caPem.toFile()).protocols("TLSv1.3").build());
  }

  @Test
  void migrationIdsThatWouldBeZooKeeperPathsAreRefusedBeforeAnyRead() throws Exception {
    ManagedChannel channel = channel(TransportSecurity.mutualTls(certs.operator()).channelCredentials());
    try {
      var stub = CoordinatorGrpc.newBlockingStub(channel);
      for (String id : List.of("", "../active", "m-1/plan", "/ferry", "x".repeat(200), "m-1\u0000")) {
        var ref = dev.ferry.proto.MigrationRef.newBuilder().setMigrationId(id).build();
        for (Runnable call : List.<Runnable>of(
            () -> stub.withDeadlineAfter(20, TimeUnit.SECONDS).getMigration(ref),
            () -> stub.withDeadlineAfter(20, TimeUnit.SECONDS).cancelMigration(ref),
            () -> stub.withDeadlineAfter(20, TimeUnit.SECONDS).watchMigration(
                dev.ferry.proto.WatchMigrationRequest.newBuilder().setMigrationId(id).build()).hasNext())) {
          io.grpc.StatusRuntimeException e = assertThrows(io.grpc.StatusRuntimeException.class, call::run, id);
          assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), id + ": " + e.getStatus());
        }
      }
      // a well-formed unknown id is simply not found
      io.grpc.StatusRuntimeException e = assertThrows(io.grpc.StatusRuntimeException.class, () -> stub.withDeadlineAfter(20,
          TimeUnit.SECONDS).getMigration(dev.ferry.proto.MigrationRef.newBuilder().setMigrationId("m-20260101-000000-0000").build()));
      assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getStatus().toString());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theCoordinatorReachesItsAgentsOverMutualTls() throws Exception {
    ManagedChannel channel = channel(TransportSecurity.mutualTls(certs.viewer()).channelCredentials());
    try {
      List<AgentStatus> listed = CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList();
      assertEquals(2, listed.size(), listed.toString());
      for (AgentStatus a : listed) {
        // healthy = the agent answered Describe, which it serves only to a coordinator certificate over mTLS
        assertTrue(a.getHealthy(), a.toString());
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aZooKeeperClientWithoutFerrysSecretCannotReadOrChangeFerrysZnodes() throws Exception {
    String agentNode = "/ferry/agents/host1";
    try (CuratorFramework ferry = client(zkSecret)) {
      // What Ferry created carries Ferry's ACL only: the coordinator's layout and an agent's registration.
      for (String node : List.of("/ferry", "/ferry/agents", "/ferry/migrations", agentNode)) {
        List<ACL> acl = ferry.getACL().forPath(node);
        assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, zkSecret.aclId())), acl, node);
      }
      byte[] before = ferry.getData().forPath(agentNode);
      ZooKeeperCredentials stranger = ZooKeeperCredentials.of("ferry", "not-the-secret");
      for (ZooKeeperCredentials who : new ZooKeeperCredentials[] {null, stranger}) {
        try (CuratorFramework other = client(who)) {
          String as = who == null ? "unauthenticated" : "wrong password";
          assertThrows(KeeperException.NoAuthException.class, () -> other.getData().forPath(agentNode), as + " read");
          assertThrows(KeeperException.NoAuthException.class,
              () -> other.setData().forPath(agentNode, "forged".getBytes(StandardCharsets.UTF_8)), as + " setData");
          assertThrows(KeeperException.NoAuthException.class, () -> other.delete().forPath(agentNode), as + " delete");
          assertThrows(KeeperException.NoAuthException.class,
              () -> other.create().forPath("/ferry/migrations/m-forged"), as + " create");
          assertThrows(KeeperException.NoAuthException.class,
              () -> other.create().forPath("/ferry/agents/evil"), as + " register a fake agent");
          assertThrows(KeeperException.NoAuthException.class,
              () -> other.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath("/ferry"), as + " open the ACL");
        }
      }
      assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, zkSecret.aclId())), ferry.getACL().forPath("/ferry"));
      assertTrue(java.util.Arrays.equals(before, ferry.getData().forPath(agentNode)), "registration unchanged");
      assertEquals(null, ferry.checkExists().forPath("/ferry/migrations/m-forged"));
    }
  }

  private static CuratorFramework client(ZooKeeperCredentials credentials) throws InterruptedException {
    CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder().connectString(zk.connectString())
        .sessionTimeoutMs(15_000).connectionTimeoutMs(10_000).retryPolicy(new RetryOneTime(100));
    if (credentials != null) {
      b.authorization("digest", credentials.authBytes());
    }
    CuratorFramework c = b.build();
    c.start();
    assertTrue(c.blockUntilConnected(30, TimeUnit.SECONDS));
    return c;
  }
}
