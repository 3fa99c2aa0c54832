package dev.ferry.coordinator.service;

import dev.ferry.coordinator.policy.ConvergenceLimits;
import dev.ferry.coordinator.zk.AgentDirectory;
import dev.ferry.coordinator.zk.AgentDirectory.RegisteredAgent;
import dev.ferry.coordinator.zk.RecordCodec;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.StartMigrationRequest;
import io.grpc.Status;
import io.grpc.StatusException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The checks of a StartMigration request that need no agent call, each failing with a Status an
 * operator can act on. (The pid itself is checked by the source agent's InspectProcess.) What a
 * real switch-over would lack (soft-dirty, CRIU) is collected, not thrown: the coordinator adds
 * what it learns from InspectProcess (the workload's capabilities against the destination's) and
 * refuses with every problem at once ({@link #cannotSwitchOver}).
 */
final class StartValidation {
  /**
   * A request that passed: the hosts resolved, the effective limits, and what a real switch-over
   * between these hosts would lack (empty for a dry run).
   */
  record Checked(RegisteredAgent source, RegisteredAgent destination, ConvergenceLimits limits,
      List<String> switchoverProblems) {}

  private StartValidation() {}

  static Checked check(StartMigrationRequest req, AgentDirectory agents, Duration destinationCost)
      throws StatusException {
    if (req.getPid() <= 0) {
      throw invalid("pid must be a positive process id, got " + req.getPid());
    }
    if (req.getDestinationHost().isBlank()) {
      throw invalid("the destination host is required (--to HOST)");
    }
    ConvergenceLimits limits = RecordCodec.limits(req.getLimits(), destinationCost);
    List<String> problems = new ArrayList<>(limits.problems());
    if (req.getLimits().getDowntimeLimitMillis() < 0 || req.getLimits().getMaxRounds() < 0
        || req.getLimits().getMaxPrecopyMillis() < 0 || req.getLimits().getBandwidthLimitBytesPerSec() < 0
        || req.getLimits().getStallRounds() < 0 || req.getLimits().getSwitchoverFixedCostMillis() < 0) {
      problems.add("limits must not be negative");
    }
    if (!problems.isEmpty()) {
      throw invalid("limits out of range: " + String.join("; ", problems));
    }
    List<RegisteredAgent> all = agents.agents();
    RegisteredAgent destination = agents.agent(req.getDestinationHost())
        .orElseThrow(() -> unknownHost(req.getDestinationHost(), all));
    RegisteredAgent source;
    if (req.getSourceHost().isBlank()) {
      List<RegisteredAgent> others = all.stream()
          .filter(a -> !a.capabilities().getHost().equals(req.getDestinationHost())).collect(Collectors.toList());
      if (others.size() != 1) {
        throw invalid("cannot guess the source host among " + names(others) + ": give it (--from HOST)");
      }
      source = others.get(0);
    } else {
      source = agents.agent(req.getSourceHost()).orElseThrow(() -> unknownHost(req.getSourceHost(), all));
    }
    if (source.capabilities().getHost().equals(destination.capabilities().getHost())) {
      throw new StatusException(Status.FAILED_PRECONDITION.withDescription("source and destination are the same host "
          + destination.capabilities().getHost() + ": a process can only move to another host"));
    }
    List<String> missing = new ArrayList<>();
    if (!req.getDryRun()) {
      AgentCapabilities s = source.capabilities();
      AgentCapabilities d = destination.capabilities();
      if (!s.getSoftDirty()) {
        missing.add(s.getHost() + " has no soft-dirty tracking" + detail(s.getSoftDirtyDetail()));
      }
      if (!s.getCriuUsable()) {
        missing.add(s.getHost() + " has no usable CRIU" + detail(s.getCriuDetail()));
      }
      if (!d.getCriuUsable()) {
        missing.add(d.getHost() + " has no usable CRIU" + detail(d.getCriuDetail()));
      }
    }
    return new Checked(source, destination, limits, List.copyOf(missing));
  }

  /** The refusal of a real switch-over that would fail, naming every problem. */
  static StatusException cannotSwitchOver(List<String> problems) {
    return new StatusException(Status.FAILED_PRECONDITION.withDescription("cannot switch over: "
        + String.join("; ", problems) + ". Rehearse with --dry-run (pre-copy only, predicts the downtime)"));
  }

  private static String detail(String d) {
    return d == null || d.isBlank() ? "" : " (" + d + ")";
  }

  private static StatusException invalid(String msg) {
    return new StatusException(Status.INVALID_ARGUMENT.withDescription(msg));
  }

  private static StatusException unknownHost(String host, List<RegisteredAgent> all) {
    return new StatusException(Status.NOT_FOUND.withDescription("unknown host '" + host + "': no agent registered"
        + " under that name (registered: " + names(all) + ")"));
  }

  private static String names(List<RegisteredAgent> agents) {
    return agents.isEmpty() ? "none" : agents.stream().map(a -> a.capabilities().getHost())
        .collect(Collectors.joining(", "));
  }
}
