package dev.ferry.coordinator.service;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import dev.ferry.coordinator.policy.ConvergenceLimits;
import dev.ferry.coordinator.state.MigrationMachine;
import dev.ferry.coordinator.zk.AgentDirectory.RegisteredAgent;
import dev.ferry.coordinator.zk.Leadership;
import dev.ferry.coordinator.zk.RecordCodec;
import dev.ferry.coordinator.zk.StoreException;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.AgentStatus;
import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.DescribeRequest;
import dev.ferry.proto.InspectProcessRequest;
import dev.ferry.proto.ListAgentsReply;
import dev.ferry.proto.ListAgentsRequest;
import dev.ferry.proto.ListMigrationsReply;
import dev.ferry.proto.ListMigrationsRequest;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationPlanRecord;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.proto.Phase;
import dev.ferry.proto.ProcessInfo;
import dev.ferry.proto.StartMigrationRequest;
import dev.ferry.proto.WatchMigrationRequest;
import dev.ferry.service.auth.StreamToken;
import dev.ferry.service.leader.LeaderHint;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Coordinator gRPC service. Handlers only hand work to the worker executor (ZooKeeper reads
 * and writes block) or chain on agent-call futures; no gRPC or ZooKeeper thread ever waits.
 * Calls that change a migration are served by the leader; others answer UNAVAILABLE naming it.
 */
public final class CoordinatorService extends CoordinatorGrpc.CoordinatorImplBase {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorService.class);
  private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private final Services services;
  private final Conductor conductor;
  private final Leadership leadership;
  private final CuratorFramework zk;
  private final SecureRandom random = new SecureRandom();

  CoordinatorService(Services services, Conductor conductor, Leadership leadership, CuratorFramework zk) {
    this.services = services;
    this.conductor = conductor;
    this.leadership = leadership;
    this.zk = zk;
  }

  // ---- StartMigration ----

  @Override
  public void startMigration(StartMigrationRequest req, StreamObserver<MigrationInfo> out) {
    services.executor().execute(() -> {
      try {
        requireLeader();
        StartValidation.Checked c = StartValidation.check(req, services.agents(), services.store()
            .switchoverCost(req.getDestinationHost(), ConvergenceLimits.DEFAULT_SWITCHOVER_COST));
        String host = c.source().capabilities().getHost();
        services.store().activeMigration(host, req.getPid()).ifPresent(id -> {
          throw Status.ALREADY_EXISTS.withDescription("pid " + req.getPid() + " on " + host
              + " is already being migrated by " + id).asRuntimeException();
        });
        inspectThenCreate(req, c, out);
      } catch (StatusException e) {
        out.onError(e);
      } catch (StatusRuntimeException e) {
        out.onError(e);
      }
    });
  }

  private void inspectThenCreate(StartMigrationRequest req, StartValidation.Checked c, StreamObserver<MigrationInfo> out) {
    AgentCapabilities src = c.source().capabilities();
    ListenableFuture<ProcessInfo> inspect = services.clients().source(src.getAddress(), Deadlines.QUICK)
        .inspectProcess(InspectProcessRequest.newBuilder().setPid(req.getPid()).build());
    Futures.addCallback(inspect, new FutureCallback<ProcessInfo>() {
      @Override
      public void onSuccess(ProcessInfo info) {
        // refused here, before anything touched the process: CRIU would fail only after the freeze
        List<String> problems = new ArrayList<>(c.switchoverProblems());
        if (!req.getDryRun()) {
          RestorableCapabilities.problem(info, c.destination().capabilities()).ifPresent(problems::add);
        }
        if (!problems.isEmpty()) {
          out.onError(StartValidation.cannotSwitchOver(problems));
          return;
        }
        services.executor().execute(() -> create(req, c, out));
      }

      @Override
      public void onFailure(Throwable t) {
        Status s = Status.fromThrowable(t);
        String what = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
        Status mapped = s.getCode() == Status.Code.DEADLINE_EXCEEDED || s.getCode() == Status.Code.UNAVAILABLE
            ? Status.UNAVAILABLE.withDescription("source agent " + src.getHost() + " did not answer: " + what)
            : s.withDescription("pid " + req.getPid() + " on " + src.getHost() + ": " + what);
        out.onError(mapped.asRuntimeException());
      }
    }, services.executor());
  }

  private void create(StartMigrationRequest req, StartValidation.Checked c, StreamObserver<MigrationInfo> out) {
    try {
      // the checks above read ZooKeeper and the source agent: the connection may have been
      // suspended (or leadership lost) meanwhile, and then nothing may be recorded
      requireLeader();
    } catch (StatusException e) {
      out.onError(e);
      return;
    }
    long now = services.clock().millis();
    String id = "m-" + ID_TIME.format(Instant.ofEpochMilli(now)) + "-" + HexFormat.of().toHexDigits((short) random.nextInt());
    MigrationPlanRecord plan = MigrationPlanRecord.newBuilder()
        .setId(id).setPid(req.getPid())
        .setSourceHost(c.source().capabilities().getHost())
        .setDestinationHost(c.destination().capabilities().getHost())
        .setLimits(RecordCodec.limits(c.limits()))
        .setDryRun(req.getDryRun())
        .setCreatedUnixMillis(now)
        .setStreamToken(StreamToken.generate().toByteString())
        .build();
    MigrationStateRecord state = RecordCodec.record(MigrationMachine.initial())
        .setDriver(services.coordinatorId()).setUpdatedUnixMillis(now).setOwnerHost(plan.getSourceHost())
        .setNextSequence(1).build();
    MigrationInfo info = Journal.info(plan, state);
    try {
      services.store().create(plan, state, List.of(Journal.started(info, now)));
    } catch (StoreException e) {
      out.onError(status(e).asRuntimeException());
      return;
    }
    log.info("{}: pid {} {} -> {}{}", id, plan.getPid(), plan.getSourceHost(), plan.getDestinationHost(),
        plan.getDryRun() ? " (dry run)" : "");
    conductor.begin(plan, state);
    out.onNext(info);
    out.onCompleted();
  }

  // ---- WatchMigration ----

  @Override
  public void watchMigration(WatchMigrationRequest req, StreamObserver<MigrationEvent> out) {
    if (refuseMalformedId(req.getMigrationId(), out)) {
      return;
    }
    ServerCallStreamObserver<MigrationEvent> call = (ServerCallStreamObserver<MigrationEvent>) out;
    // grpc-java accepts the onReady/onCancel handlers only during this call, not from the
    // executor task that opens the stream after a ZooKeeper read: register them here and forward
    // to the stream once it exists (before that, the stream's own start() pumps anyway).
    AtomicReference<JournalStream> stream = new AtomicReference<>();
    AtomicBoolean cancelled = new AtomicBoolean();
    call.setOnCancelHandler(() -> {
      cancelled.set(true);
      JournalStream js = stream.get();
      if (js != null) {
        js.cancelled();
      }
    });
    call.setOnReadyHandler(() -> {
      JournalStream js = stream.get();
      if (js != null) {
        js.ready();
      }
    });
    services.executor().execute(() -> {
      try {
        MigrationStateRecord s = services.store().state(req.getMigrationId()).value();
        long cursor = req.getReplay() ? 0 : Math.max(0, s.getNextSequence() - (Journal.terminal(s) ? 1 : 0));
        JournalStream js = new JournalStream(services.store(), zk, req.getMigrationId(), cursor, call, services.executor());
        stream.set(js);
        if (cancelled.get()) {
          js.cancelled();
        }
        js.start();
      } catch (StoreException e) {
        call.onError(status(e).asRuntimeException());
      }
    });
  }

  // ---- GetMigration, ListMigrations ----

  @Override
  public void getMigration(MigrationRef req, StreamObserver<MigrationInfo> out) {
    if (refuseMalformedId(req.getMigrationId(), out)) {
      return;
    }
    services.executor().execute(() -> {
      try {
        out.onNext(info(req.getMigrationId()));
        out.onCompleted();
      } catch (StoreException e) {
        out.onError(status(e).asRuntimeException());
      }
    });
  }

  @Override
  public void listMigrations(ListMigrationsRequest req, StreamObserver<ListMigrationsReply> out) {
    services.executor().execute(() -> {
      try {
        int limit = req.getLimit() <= 0 ? 50 : req.getLimit();
        ListMigrationsReply.Builder reply = ListMigrationsReply.newBuilder();
        for (String id : services.store().ids()) {
          if (reply.getMigrationsCount() >= limit) {
            break;
          }
          try {
            MigrationInfo i = info(id);
            if (req.getIncludeFinished() || !RecordCodec.terminal(i.getPhase())) {
              reply.addMigrations(i);
            }
          } catch (StoreException e) {
            if (e.kind() != StoreException.Kind.NOT_FOUND) {
              throw e;
            }
          }
        }
        out.onNext(reply.build());
        out.onCompleted();
      } catch (StoreException e) {
        out.onError(status(e).asRuntimeException());
      }
    });
  }

  private MigrationInfo info(String id) throws StoreException {
    return Journal.info(services.store().plan(id), services.store().state(id).value());
  }

  // ---- CancelMigration ----

  @Override
  public void cancelMigration(MigrationRef req, StreamObserver<MigrationInfo> out) {
    if (refuseMalformedId(req.getMigrationId(), out)) {
      return;
    }
    services.executor().execute(() -> {
      try {
        requireLeader();
        MigrationInfo i = info(req.getMigrationId());
        if (RecordCodec.terminal(i.getPhase())) {
          throw new StatusException(Status.FAILED_PRECONDITION.withDescription("migration " + i.getId()
              + " already ended " + i.getPhase()));
        }
        if (i.getPhase() == Phase.COMMITTED) {
          throw new StatusException(Status.FAILED_PRECONDITION.withDescription("migration " + i.getId()
              + " is committed: the process runs on " + i.getDestinationHost() + " and it rolls forward"));
        }
        CompletableFuture<MigrationInfo> f = conductor.cancel(req.getMigrationId(), "cancelled by the operator");
        f.whenComplete((info, err) -> {
          if (err != null) {
            out.onError(Status.fromThrowable(err).asRuntimeException());
          } else if (info.getPhase() == Phase.COMMITTED || info.getPhase() == Phase.DONE) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("migration " + info.getId()
                + " committed before the cancel: it rolls forward").asRuntimeException());
          } else {
            out.onNext(info);
            out.onCompleted();
          }
        });
      } catch (StatusException e) {
        out.onError(e);
      } catch (StoreException e) {
        out.onError(status(e).asRuntimeException());
      }
    });
  }

  // ---- ListAgents ----

  @Override
  public void listAgents(ListAgentsRequest req, StreamObserver<ListAgentsReply> out) {
    List<RegisteredAgent> agents = services.agents().agents();
    List<CompletableFuture<AgentStatus>> health = new ArrayList<>();
    for (RegisteredAgent a : agents) {
      CompletableFuture<AgentStatus> f = new CompletableFuture<>();
      AgentStatus.Builder b = AgentStatus.newBuilder().setCapabilities(a.capabilities())
          .setRegisteredUnixMillis(a.registeredUnixMillis());
      Futures.addCallback(services.clients().source(a.capabilities().getAddress(), Deadlines.HEALTH)
          .describe(DescribeRequest.getDefaultInstance()), new FutureCallback<AgentCapabilities>() {
            @Override
            public void onSuccess(AgentCapabilities live) {
              f.complete(b.setCapabilities(live).setHealthy(true).setHealthDetail("answered Describe").build());
            }

            @Override
            public void onFailure(Throwable t) {
              Status s = Status.fromThrowable(t);
              f.complete(b.setHealthy(false).setHealthDetail("Describe failed: " + s.getCode()
                  + (s.getDescription() == null ? "" : " " + s.getDescription())).build());
            }
          }, services.executor());
      health.add(f);
    }
    CompletableFuture.allOf(health.toArray(CompletableFuture[]::new)).whenComplete((v, err) -> {
      ListAgentsReply.Builder reply = ListAgentsReply.newBuilder();
      health.forEach(h -> reply.addAgents(h.join()));
      out.onNext(reply.build());
      out.onCompleted();
    });
  }

  // ---- helpers ----

  /** What a migration id may look like (ours are m-<time>-<hex>): never a ZooKeeper path of its own. */
  private static final java.util.regex.Pattern MIGRATION_ID = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /**
   * INVALID_ARGUMENT for an id that is empty or could not be one of ours ("a/b", "..", 1 KiB):
   * it is joined into ZooKeeper paths, so it is checked before any read. True if refused.
   */
  private static boolean refuseMalformedId(String id, StreamObserver<?> out) {
    if (MIGRATION_ID.matcher(id).matches()) {
      return false;
    }
    String shown = id.length() > 40 ? id.substring(0, 40) + "..." : id;
    out.onError(Status.INVALID_ARGUMENT.withDescription(id.isEmpty() ? "migration_id is empty"
        : "malformed migration_id '" + shown + "': expected letters, digits, '.', '_' or '-' (e.g. m-20261130-142301-3f2a)")
        .asRuntimeException());
    return true;
  }

  private void requireLeader() throws StatusException {
    if (!leadership.connected()) {
      throw new StatusException(Status.UNAVAILABLE.withDescription("this coordinator (" + leadership.id()
          + ") has lost its ZooKeeper connection; decisions are paused until it reconnects"));
    }
    if (!conductor.leading() || !leadership.canDecide()) {
      java.util.Optional<String> known = leadership.leaderId().filter(l -> !l.equals(leadership.id()));
      String leader = known.orElse("unknown (election or ZooKeeper connection in progress)");
      Status status = Status.UNAVAILABLE.withDescription("this coordinator (" + leadership.id()
          + ") is not the leader; the leader is " + leader);
      // clients follow the trailer (LeaderHint), not the text
      throw known.map(l -> new StatusException(status, LeaderHint.trailers(l))).orElseGet(() -> new StatusException(status));
    }
  }

  static Status status(StoreException e) {
    return switch (e.kind()) {
      case NOT_FOUND -> Status.NOT_FOUND.withDescription(e.getMessage());
      case PID_BUSY -> Status.ALREADY_EXISTS.withDescription(e.getMessage());
      default -> Status.UNAVAILABLE.withDescription(e.getMessage());
    };
  }
}
