package dev.ferry.agent.transfer;

import com.google.protobuf.ByteString;
import dev.ferry.agent.Agent;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.proto.Compression;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PrepareReceiveRequest;
import dev.ferry.proto.RoundFigures;
import dev.ferry.proto.RunRoundRequest;
import dev.ferry.proto.SourceAgentGrpc;
import dev.ferry.proto.StartTrackingReply;
import dev.ferry.proto.StartTrackingRequest;
import dev.ferry.proto.StoreStatusReply;
import dev.ferry.service.tls.DevCertificates;
import dev.ferry.service.tls.TransportSecurity;
import io.grpc.ManagedChannel;
import dev.ferry.agent.metrics.AgentMetrics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/** A source and a destination agent on loopback ports in this JVM, and a coordinator's stubs to them. */
final class TwoAgents implements AutoCloseable {
  final Agent source;
  final Agent destination;
  final AgentTransport transport;
  /** The agents' metrics, served on loopback ports (tests scrape what the streams counted). */
  final AgentMetrics sourceMetrics = AgentMetrics.serve("127.0.0.1", 0);
  final AgentMetrics destinationMetrics = AgentMetrics.serve("127.0.0.1", 0);
  private final ManagedChannel toSource;
  private final ManagedChannel toDestination;
  final ByteString token = ByteString.copyFromUtf8("test-token-of-32-bytes-000000000");

  TwoAgents(Path dir, SendOptions send, Path destinationDataDir) throws IOException {
    this(dir, send, destinationDataDir, null);
  }

  /** With {@code certs}: mutual TLS everywhere, agents as host1/host2, the test's stubs as the coordinator. */
  TwoAgents(Path dir, SendOptions send, Path destinationDataDir, DevCertificates certs) throws IOException {
    Agent.Config sourceConfig = Agent.Config.of("host1", new InetSocketAddress("127.0.0.1", 0), dir.resolve("host1"))
        .withSendDefaults(send); // the engine's trackers (content hash on a host without soft-dirty)
    Agent.Config destinationConfig = Agent.Config.of("host2", new InetSocketAddress("127.0.0.1", 0), destinationDataDir);
    if (certs != null) {
      sourceConfig = sourceConfig.withSecurity(TransportSecurity.mutualTls(certs.agent("host1")));
      destinationConfig = destinationConfig.withSecurity(TransportSecurity.mutualTls(certs.agent("host2")));
      transport = new AgentTransport(DeadlineScale.ONE, TransportSecurity.mutualTls(certs.coordinator()));
    } else {
      transport = new AgentTransport(DeadlineScale.ONE);
    }
    source = Agent.start(sourceConfig, sourceMetrics);
    destination = Agent.start(destinationConfig, destinationMetrics);
    toSource = transport.channel(source.address());
    toDestination = transport.channel(destination.address());
  }

  SourceAgentGrpc.SourceAgentBlockingStub sourceStub() {
    return transport.withDeadline(SourceAgentGrpc.newBlockingStub(toSource), Duration.ofSeconds(60));
  }

  DestinationAgentGrpc.DestinationAgentBlockingStub destinationStub() {
    return transport.withDeadline(DestinationAgentGrpc.newBlockingStub(toDestination), Duration.ofSeconds(30));
  }

  StartTrackingReply begin(String id, int pid, Compression compression) {
    destinationStub().prepareReceive(PrepareReceiveRequest.newBuilder().setMigrationId(id).setStreamToken(token)
        .setSourceHost("host1").build());
    return sourceStub().startTracking(StartTrackingRequest.newBuilder().setMigrationId(id).setPid(pid)
        .setDestinationAddress(destination.address()).setDestinationHost("host2").setStreamToken(token)
        .setCompression(compression).setDryRun(true).build());
  }

  RoundFigures round(String id, int round) {
    return sourceStub().runRound(RunRoundRequest.newBuilder().setMigrationId(id).setRound(round).build());
  }

  StoreStatusReply status(String id) {
    return destinationStub().storeStatus(MigrationRef.newBuilder().setMigrationId(id).build());
  }

  @Override
  public void close() {
    toSource.shutdownNow();
    toDestination.shutdownNow();
    source.close();
    destination.close();
    sourceMetrics.close();
    destinationMetrics.close();
  }
}
