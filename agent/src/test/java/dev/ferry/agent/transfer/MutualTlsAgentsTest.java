package dev.ferry.agent.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.proto.Compression;
import dev.ferry.proto.DescribeRequest;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.RoundAck;
import dev.ferry.proto.RoundFigures;
import dev.ferry.proto.SourceAgentGrpc;
import dev.ferry.proto.StoreStatusReply;
import dev.ferry.service.tls.DevCertificates;
import dev.ferry.service.tls.TransportSecurity;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agents with mutual TLS: a coordinator drives three pre-copy rounds of a real child
 * process from host1 to host2 (agent to agent over mTLS with the migration's token); operators,
 * viewers, other agents and certificate-less clients are refused.
 */
class MutualTlsAgentsTest {
  @TempDir static Path shared;
  static Path memwriter;
  static DevCertificates certs;

  @BeforeAll
  static void setUp() throws Exception {
    memwriter = MemWriter.compile(shared);
    certs = DevCertificates.createAll(shared.resolve("certs"), "host1", "host2", "host3");
  }

  @Test
  void roundsFlowOverMutualTlsAndOnlyTheRightRolesGetIn(@TempDir Path dir) throws Exception {
    try (MemWriter child = MemWriter.start(memwriter, 8);
        TwoAgents agents = new TwoAgents(dir, SendOptions.defaults(), dir.resolve("host2"), certs)) {
      agents.begin("m-tls", child.pid(), Compression.COMPRESSION_NONE);
      RoundFigures first = agents.round("m-tls", 1);
      assertTrue(first.getDirtyPages() >= 8 * 256, first.toString());
      child.stop();
      RoundFigures last = agents.round("m-tls", 2);
      StoreStatusReply status = agents.status("m-tls");
      assertEquals(last.getDestinationDigest(), status.getDigest());

      // An operator may not drive an agent; neither may another agent.
      for (TransportSecurity who : new TransportSecurity[] {TransportSecurity.mutualTls(certs.operator()),
          TransportSecurity.mutualTls(certs.viewer()), TransportSecurity.mutualTls(certs.agent("host3"))}) {
        AgentTransport t = new AgentTransport(DeadlineScale.ONE, who);
        ManagedChannel ch = t.channel(agents.source.address());
        try {
          StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> t.withDeadline(SourceAgentGrpc.newBlockingStub(ch), Duration.ofSeconds(20))
              .killSource(MigrationRef.newBuilder().setMigrationId("m-tls").build()));
          assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), who.identity().describe());
        } finally {
          ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      }
      // Another agent (host3) passes the role check for PageStream but holds no token: refused by the destination.
      AgentTransport host3 = new AgentTransport(DeadlineScale.ONE, TransportSecurity.mutualTls(certs.agent("host3")));
      ManagedChannel ch = host3.channel(agents.destination.address());
      try {
        CompletableFuture<Status> closed = new CompletableFuture<>();
        StreamObserver<PageStreamMessage> out = host3.withDeadline(PageStreamGrpc.newStub(ch), Duration.ofSeconds(20)).pushRound(new StreamObserver<RoundAck>() {
          @Override public void onNext(RoundAck value) { }
          @Override public void onError(Throwable t) { closed.complete(Status.fromThrowable(t)); }
          @Override public void onCompleted() { closed.complete(Status.OK); }
        });
        out.onNext(PageStreamMessage.newBuilder().setHeader(dev.ferry.proto.RoundHeader.newBuilder().setMigrationId("m-tls").setRound(3)).build());
        out.onCompleted();
        assertEquals(Status.Code.PERMISSION_DENIED, closed.get(30, TimeUnit.SECONDS).getCode());
        assertEquals(status, agents.status("m-tls"), "store untouched");

        // Even holding the right token, host3 is not the source host PrepareReceive named (host1).
        CompletableFuture<Status> stolen = new CompletableFuture<>();
        StreamObserver<PageStreamMessage> thief = host3.withDeadline(PageStreamGrpc.newStub(ch), Duration.ofSeconds(20)).pushRound(new StreamObserver<RoundAck>() {
          @Override public void onNext(RoundAck value) { }
          @Override public void onError(Throwable t) { stolen.complete(Status.fromThrowable(t)); }
          @Override public void onCompleted() { stolen.complete(Status.OK); }
        });
        thief.onNext(PageStreamMessage.newBuilder().setHeader(dev.ferry.proto.RoundHeader.newBuilder().setMigrationId("m-tls").setRound(3)
            .setStreamToken(agents.token)).build());
        thief.onCompleted();
        Status s = stolen.get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.PERMISSION_DENIED, s.getCode(), s.toString());
        assertTrue(s.getDescription().contains("streams from host1, not from host3"), s.getDescription());
        assertEquals(status, agents.status("m-tls"), "store untouched");
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      // No certificate at all: the handshake fails, the agent keeps serving the coordinator.
      AgentTransport plain = new AgentTransport(DeadlineScale.ONE);
      ManagedChannel pc = plain.channel(agents.source.address());
      try {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> plain.withDeadline(SourceAgentGrpc.newBlockingStub(pc), Duration.ofSeconds(20))
            .describe(DescribeRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
      } finally {
        pc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      assertEquals("host1", agents.sourceStub().describe(DescribeRequest.getDefaultInstance()).getHost());
    }
  }

  /**
   * An agent with a valid certificate for host3 answers at the address given for host2 (a forged
   * or stale registration): the source refuses to stream to it, nothing reaches its store.
   */
  @Test
  void theSourceStreamsOnlyToTheDestinationHostTheCoordinatorNamed(@TempDir Path dir) throws Exception {
    try (MemWriter child = MemWriter.start(memwriter, 4);
        TwoAgents agents = new TwoAgents(dir, SendOptions.defaults(), dir.resolve("host2"), certs);
        dev.ferry.agent.Agent impostor = dev.ferry.agent.Agent.start(dev.ferry.agent.Agent.Config.of("host3",
            new java.net.InetSocketAddress("127.0.0.1", 0), dir.resolve("host3"))
            .withSecurity(TransportSecurity.mutualTls(certs.agent("host3"))))) {
      ManagedChannel toImpostor = agents.transport.channel(impostor.address());
      try {
        var impostorStub = agents.transport.withDeadline(dev.ferry.proto.DestinationAgentGrpc.newBlockingStub(toImpostor), Duration.ofSeconds(30));
        impostorStub.prepareReceive(dev.ferry.proto.PrepareReceiveRequest.newBuilder().setMigrationId("m-steal")
            .setStreamToken(agents.token).setSourceHost("host1").build());
        agents.sourceStub().startTracking(dev.ferry.proto.StartTrackingRequest.newBuilder().setMigrationId("m-steal")
            .setPid(child.pid()).setDestinationAddress(impostor.address()).setDestinationHost("host2")
            .setStreamToken(agents.token).setDryRun(true).build());
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        ch.qos.logback.classic.Logger tlsLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.ferry.service.tls");
        tlsLog.addAppender(logged);
        try {
          assertThrows(StatusRuntimeException.class, () -> agents.round("m-steal", 1));
        } finally {
          tlsLog.detachAppender(logged);
        }
        assertTrue(logged.list.stream().anyMatch(l -> l.getFormattedMessage().startsWith("TLS refused the server certificate")
            && l.getFormattedMessage().contains("names host3, not host2")), logged.list.toString());
        assertEquals(0, impostorStub.storeStatus(MigrationRef.newBuilder().setMigrationId("m-steal").build()).getPages(),
            "no page reached the impostor");
      } finally {
        toImpostor.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
