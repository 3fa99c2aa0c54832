package dev.ferry.agent.source;

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
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
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
  private final Signals signals = new Signals();
  private final ProcessInspector inspector = new ProcessInspector();
  private final ConcurrentMap<String, SourceMigration> migrations = new ConcurrentHashMap<>();

  public SourceAgentService(Supplier<AgentCapabilities> capabilities, PrecopySessionFactory sessions,
      CheckpointHandler checkpoints, AgentTransport transport, SendOptions sendDefaults, PageHashing hashing,
      ExecutorService roundExecutor, ScheduledExecutorService scheduler) {
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
        ManagedChannel channel = transport.channel(request.getDestinationAddress());
        SendOptions options = sendDefaults.withCompression(request.getCompression())
            .withBandwidthLimit(request.getBandwidthLimitBytesPerSec());
        SourceMigration migration = new SourceMigration(id, request.getPid(), session, channel, transport,
            request.getStreamToken(), options, hashing, new Throttle(request.getPid(), signals, scheduler));
        if (migrations.putIfAbsent(id, migration) != null) {
          migration.close();
          throw Status.ALREADY_EXISTS.withDescription("migration " + id + " is already tracked here").asException();
        }
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
    onRoundThread(request.getMigrationId(), response, m -> m.runRound(request.getRound()));
  }

  @Override
  public void checkpoint(CheckpointRequest request, StreamObserver<CheckpointReply> response) {
    onRoundThread(request.getMigrationId(), response, m -> {
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
    // The tree the checkpoint stopped (by identity) if there was one; else the tracked pid, which
    // a throttle may have left stopped.
    boolean wasStopped = checkpoints.resume(id).orElseGet(() -> {
      int pid = m != null ? m.pid() : -1;
      boolean stopped = pid > 0 && Signals.state(pid) == 'T';
      if (pid > 0) {
        signals.send(pid, Signals.SIGCONT);
      }
      return stopped;
    });
    if (wasStopped) {
      log.info("migration {}: source process resumed (rollback)", id);
    }
    reply(response, ResumeSourceReply.newBuilder().setWasStopped(wasStopped).build());
  }

  @Override
  public void killSource(MigrationRef request, StreamObserver<KillSourceReply> response) {
    String id = request.getMigrationId();
    SourceMigration m = migrations.remove(id);
    // After the commit: the stopped copy CRIU dumped (by identity: a reused pid is left alone).
    boolean killed = checkpoints.kill(id).orElseGet(() -> m != null && signals.send(m.pid(), Signals.SIGKILL));
    if (m != null) {
      m.close();
    }
    log.info("migration {}: source copy {}", id, killed ? "killed" : "already gone");
    reply(response, KillSourceReply.newBuilder().setKilled(killed).build());
  }

  @Override
  public void stopTracking(MigrationRef request, StreamObserver<StopTrackingReply> response) {
    SourceMigration m = migrations.remove(request.getMigrationId());
    if (m != null) {
      m.close();
      log.info("migration {}: tracking stopped", m.id());
    }
    reply(response, StopTrackingReply.getDefaultInstance());
  }

  /** A migration's work that may block: run with the round permit on the round executor. */
  private interface RoundWork<T> {
    T run(SourceMigration migration) throws StatusException, InterruptedException;
  }

  private <T> void onRoundThread(String id, StreamObserver<T> response, RoundWork<T> work) {
    SourceMigration m;
    try {
      m = find(id);
      m.acquireRound();
    } catch (StatusException e) {
      response.onError(e);
      return;
    }
    Context context = Context.current();
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

  /** Closes every migration: throttles end, processes are left running. */
  @Override
  public void close() {
    migrations.values().forEach(SourceMigration::close);
    migrations.clear();
  }

}
