package dev.ferry.coordinator.service;

import dev.ferry.coordinator.policy.ConvergencePolicy;
import dev.ferry.coordinator.state.MigrationMachine;
import dev.ferry.coordinator.state.MigrationState;
import dev.ferry.coordinator.state.Signal;
import dev.ferry.coordinator.zk.Leadership;
import dev.ferry.coordinator.zk.RecordCodec;
import dev.ferry.coordinator.zk.StoreException;
import dev.ferry.coordinator.zk.Versioned;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationPlanRecord;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.coordinator.policy.RoundSample;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's migrations: one {@link MigrationDriver} each. Elected, it adopts every unfinished
 * migration recorded in ZooKeeper (the state machine decides per recorded state: continue
 * pre-copy, roll back before the commit, roll forward after it). Demoted, it drops them all.
 * Paused (ZooKeeper SUSPENDED), drivers hold their signals; resumed, they go on.
 */
final class Conductor implements Leadership.Listener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Conductor.class);

  private final Services services;
  private final ConvergencePolicy policy;
  private final Map<String, MigrationDriver> drivers = new ConcurrentHashMap<>();
  private volatile BooleanSupplier mayDecide = () -> false;
  private volatile boolean leader;

  Conductor(Services services, ConvergencePolicy policy) {
    this.services = services;
    this.policy = policy;
  }

  void decideWhen(BooleanSupplier mayDecide) {
    this.mayDecide = mayDecide;
  }

  boolean leading() {
    return leader;
  }

  @Override
  public void elected() {
    leader = true;
    services.executor().execute(this::adoptUnfinished);
  }

  @Override
  public void demoted() {
    leader = false;
    drivers.values().forEach(MigrationDriver::stop);
    drivers.clear();
  }

  @Override
  public void paused() {
    // drivers check mayDecide before every decision; nothing to do
  }

  @Override
  public void resumed() {
    drivers.values().forEach(MigrationDriver::kick);
  }

  private void adoptUnfinished() {
    List<String> ids;
    try {
      ids = services.store().ids();
    } catch (StoreException e) {
      log.warn("cannot list migrations to adopt: {}", e.getMessage());
      return;
    }
    for (String id : ids) {
      if (!leader) {
        return;
      }
      try {
        Versioned<MigrationStateRecord> s = services.store().state(id);
        if (RecordCodec.terminal(s.value().getPhase()) || drivers.containsKey(id)) {
          continue;
        }
        MigrationDriver d = load(id, s);
        log.info("adopting {} in {} (recorded by {})", id, s.value().getPhase(), s.value().getDriver());
        d.submit(new Signal.Recovered());
      } catch (StoreException e) {
        log.warn("cannot adopt {}: {}", id, e.getMessage());
      }
    }
  }

  private MigrationDriver load(String id, Versioned<MigrationStateRecord> s) throws StoreException {
    MigrationPlanRecord plan = services.store().plan(id);
    List<RoundSample> rounds = new ArrayList<>();
    for (MigrationEvent e : services.store().events(id)) {
      if (e.hasRound()) {
        rounds.add(RecordCodec.sample(e.getRound().getFigures()));
      }
    }
    MigrationState state = RecordCodec.state(s.value(), rounds);
    services.metrics().migrationStarted(id, plan.getLimits().getDowntimeLimitMillis());
    return register(plan, state, s.value(), s.version());
  }

  /** Starts driving a migration just created in the store. */
  void begin(MigrationPlanRecord plan, MigrationStateRecord initial) {
    services.metrics().migrationStarted(plan.getId(), plan.getLimits().getDowntimeLimitMillis());
    register(plan, MigrationMachine.initial(), initial, 0).submit(new Signal.Begin());
  }

  private MigrationDriver register(MigrationPlanRecord plan, MigrationState state, MigrationStateRecord record,
      int version) {
    MigrationMachine machine = new MigrationMachine(RecordCodec.plan(plan), policy);
    MigrationDriver d = new MigrationDriver(plan, machine, state, record, version, services,
        () -> leader && mayDecide.getAsBoolean(), () -> drivers.remove(plan.getId()));
    drivers.put(plan.getId(), d);
    return d;
  }

  /** Cancels an unfinished migration; completes once ROLLING_BACK is recorded. */
  CompletableFuture<MigrationInfo> cancel(String id, String reason) {
    MigrationDriver d = drivers.get(id);
    if (d == null) {
      return CompletableFuture.failedFuture(Status.UNAVAILABLE
          .withDescription("migration " + id + " is not driven by this coordinator (yet); retry").asRuntimeException());
    }
    return d.submit(new Signal.CancelRequested(reason));
  }

  @Override
  public void close() {
    demoted();
  }
}
