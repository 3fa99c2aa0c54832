package dev.ferry.coordinator.service;

import dev.ferry.coordinator.metrics.CoordinatorMetrics;
import dev.ferry.coordinator.zk.AgentDirectory;
import dev.ferry.coordinator.zk.MigrationStore;
import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What the coordinator's parts share: the store, the agent directory and clients, the worker
 * executor (ZooKeeper writes and decisions run here, never on gRPC or ZooKeeper event threads),
 * the clock, this coordinator's id (its address), and the Prometheus metrics the drivers feed.
 */
record Services(MigrationStore store, AgentDirectory agents, AgentClients clients, ScheduledExecutorService executor,
    Clock clock, String coordinatorId, GrpcEndpoints endpoints, CoordinatorMetrics metrics) {}
