package dev.ferry.coordinator.service;

import dev.ferry.coordinator.policy.SwitchoverCost;
import dev.ferry.coordinator.state.Effect;
import dev.ferry.coordinator.state.MigrationMachine;
import dev.ferry.coordinator.state.MigrationState;
import dev.ferry.coordinator.state.Notice;
import dev.ferry.coordinator.state.Signal;
import dev.ferry.coordinator.state.Transition;
import dev.ferry.coordinator.zk.LostRaceException;
import dev.ferry.coordinator.zk.MigrationStore;
import dev.ferry.coordinator.zk.RecordCodec;
import dev.ferry.coordinator.zk.StoreException;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationPlanRecord;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.proto.Phase;
import dev.ferry.proto.RoundFigures;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one migration on the leader: takes signals one at a time, asks the pure state machine,
 * records the next state and its journal events by compare-and-set, and only then starts the
 * effect, whose answer comes back as the next signal.
 *
 * <p>Thread confinement: {@link #drain} runs on the shared executor, at most one at a time per
 * driver (the {@code draining} flag); state, version and sequence are touched only there.
 * Signals wait in the queue while decisions are paused (ZooKeeper SUSPENDED) and are handled after
 * RECONNECTED. A lost compare-and-set stops the driver: someone else owns the migration now.
 */
final class MigrationDriver {
  private static final Logger log = LoggerFactory.getLogger(MigrationDriver.class);
  private static final Duration STORE_RETRY = Duration.ofSeconds(1);

  private record Item(Signal signal, CompletableFuture<MigrationInfo> recorded) {}

  private final MigrationPlanRecord plan;
  private final MigrationMachine machine;
  private final MigrationStore store;
  private final ScheduledExecutorService executor;
  private final BooleanSupplier mayDecide;
  private final String driverId;
  private final Clock clock;
  private final Runnable onFinished;
  private final EffectRunner effects;
  private final dev.ferry.coordinator.metrics.CoordinatorMetrics metrics;
  private final ConcurrentLinkedDeque<Item> queue = new ConcurrentLinkedDeque<>();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final Map<Integer, RoundFigures> figures = new ConcurrentHashMap<>();
  private volatile boolean stopped;

  // confined to drain()
  private MigrationState state;
  private MigrationStateRecord record;
  private int version;
  private long phaseStartedMillis;

  MigrationDriver(MigrationPlanRecord plan, MigrationMachine machine, MigrationState state, MigrationStateRecord record,
      int version, Services services, BooleanSupplier mayDecide, Runnable onFinished) {
    this.plan = plan;
    this.machine = machine;
    this.store = services.store();
    this.executor = services.executor();
    this.mayDecide = mayDecide;
    this.driverId = services.coordinatorId();
    this.clock = services.clock();
    this.onFinished = onFinished;
    this.metrics = services.metrics();
    this.state = state;
    this.record = record;
    this.version = version;
    this.phaseStartedMillis = clock.millis();
    this.effects = new EffectRunner(plan, services.agents(), services.clients(), clock, this::precopyElapsed,
        f -> figures.put(f.getRound(), f));
  }

  String id() {
    return plan.getId();
  }

  /** Queues a signal; the future completes once its transition is recorded (or fails ABORTED/UNAVAILABLE). */
  CompletableFuture<MigrationInfo> submit(Signal signal) {
    CompletableFuture<MigrationInfo> done = new CompletableFuture<>();
    if (stopped) {
      done.completeExceptionally(Status.UNAVAILABLE.withDescription("this coordinator no longer drives "
          + id()).asRuntimeException());
      return done;
    }
    queue.add(new Item(signal, done));
    kick();
    return done;
  }

  /** Schedules a drain (after a signal, or when decisions resume). */
  void kick() {
    if (!stopped && draining.compareAndSet(false, true)) {
      executor.execute(this::drain);
    }
  }

  void stop() {
    stopped = true;
    Item i;
    while ((i = queue.poll()) != null) {
      i.recorded().completeExceptionally(Status.UNAVAILABLE.withDescription("coordinator gave up leadership")
          .asRuntimeException());
    }
  }

  private void drain() {
    try {
      while (!stopped && mayDecide.getAsBoolean()) {
        Item item = queue.poll();
        if (item == null) {
          break;
        }
        boolean go;
        try {
          go = process(item);
        } catch (RuntimeException e) {
          // never lose a failure inside an executor: say it, fail the caller, keep the state as is
          log.error("{}: handling {} failed", id(), item.signal(), e);
          item.recorded().completeExceptionally(Status.INTERNAL.withDescription("coordinator failed handling "
              + item.signal().getClass().getSimpleName() + ": " + e).asRuntimeException());
          go = true;
        }
        if (!go) {
          return;
        }
      }
    } finally {
      draining.set(false);
    }
    // a signal queued while this drain was ending, or decisions just resumed
    if (!stopped && mayDecide.getAsBoolean() && !queue.isEmpty()) {
      kick();
    }
  }

  /** False when the drain must end (a store retry is scheduled, or the driver stopped). */
  private boolean process(Item item) {
    Transition t = machine.transition(state, item.signal());
    if (!t.changed(state)) {
      item.recorded().complete(Journal.info(plan, record));
      return true;
    }
    long now = clock.millis();
    MigrationStateRecord.Builder next = RecordCodec.record(t.next())
        .setDriver(driverId)
        .setUpdatedUnixMillis(now)
        .setOwnerHost(t.next().phase() == Phase.COMMITTED || t.next().phase() == Phase.DONE && !plan.getDryRun()
            ? plan.getDestinationHost() : plan.getSourceHost())
        .setPrecopyStartedUnixMillis(record.getPrecopyStartedUnixMillis() == 0 && t.next().phase() == Phase.PRECOPY
            ? now : record.getPrecopyStartedUnixMillis());
    if (t.next().terminal()) {
      // A terminal state keeps the figures of the progress it ends (rounds, tracker) and says
      // how long the whole migration took, so `list`/`status` need not replay the journal.
      next.setRound(Math.max(record.getRound(), next.getSummary().getRounds()))
          .setTracker(record.getTracker())
          .setSummary(next.getSummary().toBuilder().setTotalMillis(Math.max(0, now - plan.getCreatedUnixMillis())));
    }
    List<MigrationEvent> events = new ArrayList<>();
    long seq = record.getNextSequence();
    for (Notice n : t.notices()) {
      if (n instanceof Notice.Round r) {
        RoundFigures f = figures.getOrDefault(r.sample().round(), RoundFigures.newBuilder().setRound(r.sample().round())
            .setDirtyPages(r.sample().dirtyPages()).build());
        events.add(Journal.round(id(), seq++, now, f, RecordCodec.decision(r.decision())));
      } else if (n instanceof Notice.PhaseChanged p) {
        events.add(Journal.phase(id(), seq++, now, p.phase(), p.detail(), now - phaseStartedMillis, next.getTracker()));
      }
    }
    MigrationStateRecord provisional = next.setNextSequence(seq + (t.next().terminal() ? 1 : 0)).build();
    if (t.next().terminal()) {
      events.add(Journal.finished(Journal.info(plan, provisional), seq, now));
    }
    Optional<String> release = t.next().terminal()
        ? Optional.of(store.layout().activePid(plan.getSourceHost(), plan.getPid())) : Optional.empty();
    try {
      version = store.write(id(), version, provisional, events, release);
    } catch (LostRaceException e) {
      log.warn("{}: {}; this coordinator stops driving it", id(), e.getMessage());
      item.recorded().completeExceptionally(Status.ABORTED.withDescription(e.getMessage()).asRuntimeException());
      stop();
      return false;
    } catch (StoreException e) {
      // Nothing was decided: put the signal back and try again (decisions pause while suspended).
      log.warn("{}: {}; retrying", id(), e.getMessage());
      queue.addFirst(item);
      executor.schedule(this::kick, STORE_RETRY.toMillis(), TimeUnit.MILLISECONDS);
      return false;
    }
    if (t.next().phase() != state.phase()) {
      phaseStartedMillis = now;
    }
    for (MigrationEvent e : events) {
      if (e.hasRound()) {
        metrics.roundCompleted(id(), e.getRound().getFigures(), e.getRound().getDecision());
      }
    }
    if (t.next().terminal()) {
      metrics.migrationFinished(id(), provisional.getPhase(), plan.getDryRun(), provisional.getSummary());
    }
    state = t.next();
    record = provisional;
    log.info("{}: {} round {} after {}{}", id(), state.phase(), record.getRound(), item.signal().getClass().getSimpleName(),
        t.effect().map(e -> " -> " + e.step()).orElse(""));
    figures.keySet().removeIf(r -> r <= provisional.getRound());
    item.recorded().complete(Journal.info(plan, record));
    t.effect().ifPresent(e -> launch(e, t.delay()));
    t.cleanup().forEach(e -> effects.run(e).thenAccept(s -> {
      if (s instanceof Signal.StepFailed f) {
        log.info("{}: cleanup {} failed: {}", id(), f.step(), f.reason());
      }
    }));
    if (state.terminal()) {
      log.info("{} finished {}: {}", id(), state.phase(), record.getReason());
      learnSwitchoverCost();
      stopped = true;
      onFinished.run();
    }
    return !stopped;
  }

  private void launch(Effect effect, Duration delay) {
    Runnable go = () -> {
      if (!stopped) {
        effects.run(effect).thenAccept(this::submit);
      }
    };
    if (delay.isZero()) {
      go.run();
    } else {
      executor.schedule(go, delay.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private Duration precopyElapsed() {
    long started = record.getPrecopyStartedUnixMillis();
    return started == 0 ? Duration.ZERO : Duration.ofMillis(Math.max(0, clock.millis() - started));
  }

  /** A finished real switch-over refines the destination's fixed-cost estimate. */
  private void learnSwitchoverCost() {
    if (plan.getDryRun() || record.getPhase() != Phase.DONE || record.getSummary().getDowntimeMillis() <= 0) {
      return;
    }
    try {
      Duration current = store.switchoverCost(plan.getDestinationHost(),
          Duration.ofMillis(plan.getLimits().getSwitchoverFixedCostMillis()));
      Duration measured = Duration.ofMillis(record.getSummary().getDowntimeMillis());
      Duration transfer = Duration.ofMillis(Math.max(0, record.getLastDecision().getExpectedDowntimeMillis()
          - plan.getLimits().getSwitchoverFixedCostMillis()));
      store.recordSwitchoverCost(plan.getDestinationHost(), SwitchoverCost.updated(current, measured, transfer));
    } catch (StoreException e) {
      log.info("{}: switch-over cost not recorded: {}", id(), e.getMessage());
    }
  }
}
