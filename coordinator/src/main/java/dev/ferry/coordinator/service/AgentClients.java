package dev.ferry.coordinator.service;

import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.DestinationAgentGrpc.DestinationAgentFutureStub;
import dev.ferry.proto.SourceAgentGrpc;
import dev.ferry.proto.SourceAgentGrpc.SourceAgentFutureStub;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** One channel per agent address, shared by all migrations; stubs carry a scaled deadline. */
final class AgentClients implements AutoCloseable {
  private final GrpcEndpoints endpoints;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  AgentClients(GrpcEndpoints endpoints) {
    this.endpoints = endpoints;
  }

  SourceAgentFutureStub source(String address, Duration base) {
    return SourceAgentGrpc.newFutureStub(channel(address))
        .withDeadlineAfter(endpoints.deadline(base).toNanos(), TimeUnit.NANOSECONDS);
  }

  DestinationAgentFutureStub destination(String address, Duration base) {
    return DestinationAgentGrpc.newFutureStub(channel(address))
        .withDeadlineAfter(endpoints.deadline(base).toNanos(), TimeUnit.NANOSECONDS);
  }

  private ManagedChannel channel(String address) {
    return channels.computeIfAbsent(address, endpoints::channel);
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
