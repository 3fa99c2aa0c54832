package dev.ferry.agent.source;

import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.transfer.SendOptions;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.CheckpointReply;
import dev.ferry.proto.CheckpointRequest;
import dev.ferry.proto.DescribeRequest;
import dev.ferry.proto.InspectProcessRequest;
import dev.ferry.proto.KillSourceReply;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.ProcessInfo;
import dev.ferry.proto.ResumeSourceReply;
import dev.ferry.proto.RoundFigures;
import dev.ferry.proto.RunRoundRequest;
import dev.ferry.proto.SourceAgentGrpc;
import dev.ferry.proto.StartTrackingReply;
import dev.ferry.proto.StartTrackingRequest;
import dev.ferry.proto.StopTrackingReply;
import dev.ferry.proto.ThrottleReply;
import dev.ferry.proto.ThrottleRequest;
import dev.ferry.agent.shutdown.MigrationGuards;
import dev.ferry.service.systemd.ProcessIdentity;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SourceAgent service. Quick calls answer on the gRPC executor; rounds and checkpoints (which
 * freeze, read memory and stream for seconds) run on the agent's round executor, in the caller's
 * gRPC context so that the coordinator's deadline or cancellation also cancels the page stream.
 */
public final class SourceAgentService extends SourceAgentGrpc.SourceAgentImplBase implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SourceAgentService.class);

  private final Supplier<AgentCapabilities> capabilities;
  private final PrecopySessionFactory sessions;
  private final CheckpointHandler checkpoints;
  private final AgentTransport transport;
  private final SendOptions sendDefaults;
  private final PageHashing hashing;
  private final ExecutorService roundExecutor;
  private final ScheduledExecutorService scheduler;
  private final AgentMetrics metrics;
  private final Signals signals = new Signals();
  private final ProcessInspector inspector = new ProcessInspector();
  private final ConcurrentMap<String, SourceMigration> migrations = new ConcurrentHashMap<>();
  private final MigrationGuards guards;
  /** Guard of each migration in {@link #migrations} (see {@link #rollBackOnStop}). */
  private final ConcurrentMap<String, MigrationGuards.Guard> guardOf = new ConcurrentHashMap<>();
  /** Migrations whose checkpoint has begun: from then on only the coordinator's commit decides. */
  private final Set<String> inSwitchover = ConcurrentHashMap.newKeySet();
  /** Stopped sources a previous run of this agent left in their switch-over, by migration id. */
  private final ConcurrentMap<String, Adopted> adopted = new ConcurrentHashMap<>();

  /** A process from the rollback journal; {@code settled} removes its record once the coordinator has decided. */
  private record Adopted(ProcessIdentity process, Runnable settled) {}

  public SourceAgentService(Supplier<AgentCapabilities> capabilities, PrecopySessionFactory sessions,
      CheckpointHandler checkpoints, AgentTransport transport, SendOptions sendDefaults, PageHashing hashing,
      ExecutorService roundExecutor, ScheduledExecutorService scheduler, AgentMetrics metrics) {
    this(capabilities, sessions, checkpoints, transport, sendDefaults, hashing, roundExecutor, scheduler, metrics,
        MigrationGuards.none());
  }

  public SourceAgentService(Supplier<AgentCapabilities> capabilities, PrecopySessionFactory sessions,
      CheckpointHandler checkpoints, AgentTransport transport, SendOptions sendDefaults, PageHashing hashing,
      ExecutorService roundExecutor, ScheduledExecutorService scheduler, AgentMetrics metrics, MigrationGuards guards) {
    this.guards = guards;
    this.metrics = metrics;
    this.capabilities = capabilities;
    this.sessions = sessions;
    this.checkpoints = checkpoints;
    this.transport = transport;
    this.sendDefaults = sendDefaults;
    this.hashing = hashing;
    this.roundExecutor = roundExecutor;
    this.scheduler = scheduler;
  }

  public int activeMigrations() {
    return migrations.size();
  }

  @Override
  public void describe(DescribeRequest request, StreamObserver<AgentCapabilities> response) {
    reply(response, capabilities.get());
  }

  @Override
  public void inspectProcess(InspectProcessRequest request, StreamObserver<ProcessInfo> response) {
    try {
      reply(response, inspector.inspect(request.getPid()));
    } catch (TrackingException e) {
      response.onError(TrackingStatuses.of(e).asException());
    }
  }

  @Override
  public void startTracking(StartTrackingRequest request, StreamObserver<StartTrackingReply> response) {
    String id = request.getMigrationId();
    if (id.isEmpty() || request.getDestinationAddress().isEmpty()) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("migration_id and destination_address are required").asException());
      return;
    }
    if (migrations.containsKey(id)) {
      response.onError(Status.ALREADY_EXISTS.withDescription("migration " + id + " is already tracked here").asException());
      return;
    }
    for (SourceMigration m : migrations.values()) {
      if (m.pid() == request.getPid()) {
        response.onError(Status.ABORTED.withDescription("pid " + request.getPid() + " is already tracked by migration " + m.id()).asException());
        return;
      }
    }
    // Opening a session reads /proc and may probe soft-dirty: off the gRPC executor.
    Context context = Context.current();
    roundExecutor.execute(context.wrap(() -> {
      try {
        ProcessInfo info = inspector.inspect(request.getPid());
        PrecopySession session = sessions.open(request.getPid(), request.getDryRun());
        ManagedChannel channel = transport.channel(request.getDestinationAddress(), request.getDestinationHost());
        SendOptions options = sendDefaults.withCompression(request.getCompression())
            .withBandwidthLimit(request.getBandwidthLimitBytesPerSec());
        SourceMigration migration = new SourceMigration(id, request.getPid(), session, channel, transport,
            request.getStreamToken(), options, hashing, new Throttle(request.getPid(), signals, scheduler), metrics,
            request.getDryRun());
        if (migrations.putIfAbsent(id, migration) != null) {
          migration.close();
          throw Status.ALREADY_EXISTS.withDescription("migration " + id + " is already tracked here").asException();
        }
        MigrationGuards.Guard guard;
        try {
          // before any freeze or throttle: SIGTERM and kill -9 must find this migration
          guard = guards.open("source-" + id, remaining -> rollBackOnStop(id, remaining));
          try {
            guard.record(request.getPid(), Map.of("role", "source", "migration", id, "phase", "precopy"));
          } catch (StatusException e) {
            guard.close();
            throw e;
          }
        } catch (StatusException e) {
          migrations.remove(id, migration);
          migration.close();
          throw e;
        }
        guardOf.put(id, guard);
        metrics.migrationOpened(id);
        log.info("migration {}: tracking pid {} ({}), streaming to {} at {}", id, request.getPid(), session.reason(),
            request.getDestinationHost(), request.getDestinationAddress());
        reply(response, StartTrackingReply.newBuilder().setTracker(session.kind()).setTrackerReason(session.reason())
            .setProcess(info).build());
      } catch (TrackingException e) {
        response.onError(TrackingStatuses.of(e).asException());
      } catch (StatusException e) {
        response.onError(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        response.onError(Status.CANCELLED.withDescription("agent shutting down").asException());
      } catch (RuntimeException e) {
        log.error("StartTracking {} failed", id, e);
        response.onError(Status.INTERNAL.withDescription("StartTracking failed: " + e).asException());
      }
    }));
  }

  @Override
  public void runRound(RunRoundRequest request, StreamObserver<RoundFigures> response) {
    // A round outlives its caller: it has cleared soft-dirty bits when it captured, so a round cut
    // off half-way could only break the migration. When the coordinator that asked dies, the round
    // still completes (within the caller's deadline) and its successor, asking for the same round,
    // is told which round is next (the state machine skips the unrecorded one).
    onRoundThread(request.getMigrationId(), response, true, m -> {
      RoundFigures figures = m.runRound(request.getRound());
      if (!m.dryRun()) { // a dry run never checkpoints: no criu held ahead, no parent written for it
        checkpoints.roundDone(m); // e.g. criu started ahead: the next round may be the last
      }
      return figures;
    });
  }

  @Override
  public void checkpoint(CheckpointRequest request, StreamObserver<CheckpointReply> response) {
    onRoundThread(request.getMigrationId(), response, false, m -> {
      enterSwitchover(m);
      // No throttle tick may SIGCONT the copy CRIU leaves stopped: two copies would run.
      m.throttle().set(0);
      try {
        return checkpoints.checkpoint(m, request);
      } finally {
        // --track-mem made CRIU clear soft-dirty (also when the dump then failed): pages it saw
        // are clean but the destination may lack them, so no pre-copy round may follow.
        m.endPrecopy("a checkpoint ran (CRIU's --track-mem cleared soft-dirty); migrate again to continue");
      }
    });
  }

  @Override
  public void throttle(ThrottleRequest request, StreamObserver<ThrottleReply> response) {
    try {
      SourceMigration m = find(request.getMigrationId());
      if (request.getPercent() < 0 || request.getPercent() > 99) {
        throw Status.INVALID_ARGUMENT.withDescription("throttle percent must be 0..99, got " + request.getPercent()).asException();
      }
      reply(response, ThrottleReply.newBuilder().setPercent(m.throttle().set(request.getPercent())).build());
    } catch (StatusException e) {
      response.onError(e);
    }
  }

  @Override
  public void resumeSource(MigrationRef request, StreamObserver<ResumeSourceReply> response) {
    String id = request.getMigrationId();
    SourceMigration m = migrations.get(id);
    if (m != null) {
      m.throttle().set(0);
    }
    checkpoints.migrationEnded(id);
    // A process a previous run of this agent left (adopted from the rollback journal), if any.
    ProcessIdentity left = m == null ? settle(adopted.remove(id)) : null;
    // The tree the checkpoint stopped (by identity) if there was one; else the tracked (or
    // adopted) pid, which a throttle may have left stopped.
    boolean wasStopped = checkpoints.resume(id).orElseGet(() -> {
      int pid = m != null ? m.pid() : left != null && left.alive() ? (int) left.pid() : -1;
      boolean stopped = pid > 0 && Signals.state(pid) == 'T';
      if (pid > 0) {
        signals.send(pid, Signals.SIGCONT);
      }
      return stopped;
    });
    if (wasStopped) {
      log.info("migration {}: source process resumed (rollback)", id);
    }
    // the coordinator rolled the migration back: nothing is left here to undo on stop
    endGuard(request.getMigrationId());
    reply(response, ResumeSourceReply.newBuilder().setWasStopped(wasStopped).build());
  }

  @Override
  public void killSource(MigrationRef request, StreamObserver<KillSourceReply> response) {
    String id = request.getMigrationId();
    SourceMigration m = migrations.remove(id);
    checkpoints.migrationEnded(id);
    // After the commit: the stopped copy CRIU dumped (by identity: a reused pid is left alone).
    boolean killed = checkpoints.kill(id).orElseGet(() -> m != null && signals.send(m.pid(), Signals.SIGKILL));
    if (m != null) {
      metrics.migrationClosed(m.id());
      m.close();
    } else {
      ProcessIdentity left = settle(adopted.remove(id));
      killed = killed || left != null && left.alive() && signals.send((int) left.pid(), Signals.SIGKILL);
    }
    endGuard(id);
    log.info("migration {}: source copy {}", id, killed ? "killed" : "already gone");
    reply(response, KillSourceReply.newBuilder().setKilled(killed).build());
  }

  @Override
  public void stopTracking(MigrationRef request, StreamObserver<StopTrackingReply> response) {
    SourceMigration m = migrations.remove(request.getMigrationId());
    if (m != null) {
      metrics.migrationClosed(m.id());
      m.close();
      log.info("migration {}: tracking stopped", m.id());
    }
    // after close(): a round finishing now sees the migration closed and drops what it prepared
    checkpoints.migrationEnded(request.getMigrationId());
    endGuard(request.getMigrationId());
    reply(response, StopTrackingReply.getDefaultInstance());
  }

  /** A migration's work that may block: run with the round permit on the round executor. */
  private interface RoundWork<T> {
    T run(SourceMigration migration) throws StatusException, InterruptedException;
  }

  /**
   * {@code outlivesCaller}: the work runs in a context forked from the call's, so the caller's
   * cancellation (it went away) does not cancel what the work starts (the page stream); the
   * call's deadline still bounds it.
   */
  private <T> void onRoundThread(String id, StreamObserver<T> response, boolean outlivesCaller, RoundWork<T> work) {
    SourceMigration m;
    try {
      m = find(id);
      m.acquireRound();
    } catch (StatusException e) {
      response.onError(e);
      return;
    }
    Context caller = Context.current();
    io.grpc.Deadline deadline = caller.getDeadline();
    Context.CancellableContext detached = outlivesCaller && deadline != null
        ? caller.fork().withDeadline(deadline, scheduler) : null;
    Context context = detached != null ? detached : outlivesCaller ? caller.fork() : caller;
    roundExecutor.execute(context.wrap(() -> {
      try {
        reply(response, work.run(m));
      } catch (StatusException e) {
        response.onError(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        response.onError(Status.CANCELLED.withDescription("migration " + id + ": interrupted").asException());
      } catch (RuntimeException e) {
        log.error("migration {} failed unexpectedly", id, e);
        response.onError(Status.INTERNAL.withDescription("migration " + id + ": " + e).asException());
      } finally {
        m.releaseRound();
        if (detached != null) {
          detached.cancel(null); // frees its deadline timer
        }
      }
    }));
  }

  private SourceMigration find(String id) throws StatusException {
    SourceMigration m = migrations.get(id);
    if (m == null) {
      throw Status.NOT_FOUND.withDescription("migration " + id + " is not tracked on this agent (StartTracking first)").asException();
    }
    return m;
  }

  private static <T> void reply(StreamObserver<T> response, T value) {
    response.onNext(value);
    response.onCompleted();
  }

  /**
   * Adopts a source a previous run of this agent left stopped in its switch-over (from the
   * rollback journal): the coordinator's ResumeSource or KillSource for {@code migrationId}
   * then acts on it, as if this run had tracked it.
   */
  public void adopt(String migrationId, ProcessIdentity process, Runnable settled) {
    adopted.put(migrationId, new Adopted(process, settled));
  }

  /** Migrations whose stopped source copy a previous run left (from the journal), not yet settled. */
  public java.util.Set<String> adoptedMigrations() {
    return java.util.Set.copyOf(adopted.keySet());
  }

  /**
   * Settles an adopted source copy by the migration's record, unless the coordinator's
   * ResumeSource or KillSource took it first (whoever removes it acts).
   *
   * @return false if there was nothing (left) to settle or the verdict is to wait or keep
   */
  public boolean settleAdopted(String id, dev.ferry.agent.recovery.LeftoverVerdict verdict) {
    boolean resume = verdict.action() == dev.ferry.agent.recovery.LeftoverVerdict.Action.RESUME;
    if (!resume && verdict.action() != dev.ferry.agent.recovery.LeftoverVerdict.Action.KILL) {
      return false;
    }
    ProcessIdentity left = settle(adopted.remove(id));
    if (left == null) {
      return false;
    }
    boolean done = left.alive() && signals.send((int) left.pid(), resume ? Signals.SIGCONT : Signals.SIGKILL);
    log.warn("migration {}: source copy {} left stopped by a previous run {}: {}", id, left.pid(),
        done ? (resume ? "resumed" : "killed") : "was already gone", verdict.reason());
    return true;
  }

  /** The checkpoint begins: record the phase, so neither SIGTERM nor a restart resumes the source alone. */
  private void enterSwitchover(SourceMigration m) throws StatusException {
    if (guards.stopping()) {
      throw Status.UNAVAILABLE.withDescription("migration " + m.id() + ": the agent is stopping, no switch-over now").asException();
    }
    inSwitchover.add(m.id());
    MigrationGuards.Guard guard = guardOf.get(m.id());
    if (guard != null) {
      guard.record(m.pid(), Map.of("role", "source", "migration", m.id(), "phase", "switchover"));
    }
  }

  private static ProcessIdentity settle(Adopted a) {
    if (a == null) {
      return null;
    }
    a.settled().run();
    return a.process();
  }

  private void endGuard(String id) {
    inSwitchover.remove(id);
    MigrationGuards.Guard guard = guardOf.remove(id);
    if (guard != null) {
      guard.close();
    }
  }

  /**
   * SIGTERM while migration {@code id} has not ended here. In pre-copy no final image exists and
   * the coordinator cannot commit: resume the process here and forget the migration (the
   * coordinator's next call finds it gone and rolls back). From the checkpoint on, the commit in
   * ZooKeeper decides which copy runs: keep serving until the coordinator says (KillSource or
   * ResumeSource); if it does not within the deadline, leave the process as it is and keep the
   * record for the next run, which adopts it.
   */
  private void rollBackOnStop(String id, Duration remaining) throws Exception {
    SourceMigration m = migrations.get(id);
    MigrationGuards.Guard guard = guardOf.get(id);
    if (m == null || guard == null) {
      return;
    }
    long start = System.nanoTime();
    // a running round or checkpoint holds the process frozen until it ends: wait for it
    boolean permit = m.tryAcquireRound(remaining.minusSeconds(2));
    try {
      if (!inSwitchover.contains(id)) {
        migrations.remove(id, m);
        checkpoints.migrationEnded(id);
        m.throttle().set(0);
        boolean wasStopped = Signals.state(m.pid()) == 'T';
        signals.send(m.pid(), Signals.SIGCONT);
        m.close();
        endGuard(id);
        log.info("migration {}: rolled back on stop: pid {} resumed{}", id, m.pid(), wasStopped ? " (it was stopped)" : "");
        return;
      }
    } finally {
      if (permit) {
        m.releaseRound();
      }
    }
    log.warn("migration {}: stopping in its switch-over; pid {} stays as it is until the coordinator commits or rolls back", id, m.pid());
    Duration left = remaining.minusNanos(System.nanoTime() - start).minusSeconds(2);
    if (!guard.awaitEnd(left)) {
      guardOf.remove(id, guard);
      guard.keepForNextRun();
      throw new IllegalStateException("migration " + id + ": no commit or rollback from the coordinator before the stop deadline;"
          + " pid " + m.pid() + " left stopped for it, recorded for the next run");
    }
  }

  /** Closes every migration: throttles end, processes are left running. */
  @Override
  public void close() {
    migrations.keySet().forEach(checkpoints::migrationEnded);
    migrations.values().forEach(SourceMigration::close);
    migrations.clear();
  }

}
