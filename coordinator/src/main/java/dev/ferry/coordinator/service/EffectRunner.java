package dev.ferry.coordinator.service;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import dev.ferry.coordinator.state.Effect;
import dev.ferry.coordinator.state.Signal;
import dev.ferry.coordinator.zk.AgentDirectory;
import dev.ferry.coordinator.zk.RecordCodec;
import dev.ferry.proto.CheckpointRequest;
import dev.ferry.proto.MigrationPlanRecord;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PrepareReceiveRequest;
import dev.ferry.proto.RoundFigures;
import dev.ferry.proto.RunRoundRequest;
import dev.ferry.proto.StartTrackingRequest;
import dev.ferry.proto.ThrottleRequest;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs one migration's effects as asynchronous agent calls and turns each answer into the
 * {@link Signal} the state machine expects: the effect's success, or a StepFailed naming the step
 * and the agent's status. Never blocks: the futures complete on gRPC threads and only hand the
 * signal on.
 */
final class EffectRunner {
  private final MigrationPlanRecord plan;
  private final AgentDirectory agents;
  private final AgentClients clients;
  private final Clock clock;
  private final Supplier<Duration> precopyElapsed;
  private final Consumer<RoundFigures> figuresSink;

  EffectRunner(MigrationPlanRecord plan, AgentDirectory agents, AgentClients clients, Clock clock,
      Supplier<Duration> precopyElapsed, Consumer<RoundFigures> figuresSink) {
    this.plan = plan;
    this.agents = agents;
    this.clients = clients;
    this.clock = clock;
    this.precopyElapsed = precopyElapsed;
    this.figuresSink = figuresSink;
  }

  CompletableFuture<Signal> run(Effect effect) {
    try {
      return dispatch(effect);
    } catch (AgentGoneException e) {
      return CompletableFuture.completedFuture(new Signal.StepFailed(effect.step(), e.getMessage()));
    }
  }

  private CompletableFuture<Signal> dispatch(Effect effect) throws AgentGoneException {
    String id = plan.getId();
    MigrationRef ref = MigrationRef.newBuilder().setMigrationId(id).build();
    if (effect instanceof Effect.PrepareReceive) {
      return call(effect, clients.destination(destination(), Deadlines.QUICK).prepareReceive(
          PrepareReceiveRequest.newBuilder().setMigrationId(id).setStreamToken(plan.getStreamToken())
              .setSourceHost(plan.getSourceHost()).build()), r -> new Signal.ReceivePrepared());
    }
    if (effect instanceof Effect.StartTracking) {
      return call(effect, clients.source(source(), Deadlines.START_TRACKING).startTracking(
          StartTrackingRequest.newBuilder().setMigrationId(id).setPid(plan.getPid())
              .setDestinationAddress(destination()).setDestinationHost(plan.getDestinationHost())
              .setStreamToken(plan.getStreamToken())
              .setBandwidthLimitBytesPerSec(plan.getLimits().getBandwidthLimitBytesPerSec())
              .setDryRun(plan.getDryRun()).build()),
          r -> new Signal.TrackingStarted(r.getTracker(), r.getTrackerReason()));
    }
    if (effect instanceof Effect.RunRound rr) {
      return call(effect, clients.source(source(), Deadlines.ROUND).runRound(
          RunRoundRequest.newBuilder().setMigrationId(id).setRound(rr.round()).build()), f -> {
            figuresSink.accept(f);
            return new Signal.RoundDone(RecordCodec.sample(f), precopyElapsed.get());
          });
    }
    if (effect instanceof Effect.Throttle t) {
      return call(effect, clients.source(source(), Deadlines.QUICK).throttle(
          ThrottleRequest.newBuilder().setMigrationId(id).setPercent(t.percent()).build()),
          r -> new Signal.Throttled(r.getPercent()));
    }
    if (effect instanceof Effect.Checkpoint c) {
      return call(effect, clients.source(source(), Deadlines.CHECKPOINT).checkpoint(
          CheckpointRequest.newBuilder().setMigrationId(id).setFinalRound(c.finalRound()).build()),
          r -> new Signal.Checkpointed(RecordCodec.checkpoint(r)));
    }
    if (effect instanceof Effect.ConfirmImages) {
      return call(effect, clients.destination(destination(), Deadlines.QUICK).storeStatus(ref),
          r -> new Signal.ImagesConfirmed());
    }
    if (effect instanceof Effect.Restore) {
      return call(effect, clients.destination(destination(), Deadlines.RESTORE).restore(ref),
          r -> new Signal.Restored(r.getRestoredPid()));
    }
    if (effect instanceof Effect.ResumeRestored) {
      return call(effect, clients.destination(destination(), Deadlines.QUICK).resumeRestored(ref),
          r -> new Signal.RestoredResumed(clock.millis()));
    }
    if (effect instanceof Effect.KillSource) {
      return call(effect, clients.source(source(), Deadlines.QUICK).killSource(ref), r -> new Signal.SourceKilled());
    }
    if (effect instanceof Effect.ResumeSource) {
      return call(effect, clients.source(source(), Deadlines.QUICK).resumeSource(ref), r -> new Signal.SourceResumed());
    }
    if (effect instanceof Effect.Discard) {
      return call(effect, clients.destination(destination(), Deadlines.QUICK).discard(ref), r -> new Signal.Discarded());
    }
    if (effect instanceof Effect.StopTracking) {
      return call(effect, clients.source(source(), Deadlines.QUICK).stopTracking(ref), r -> new Signal.Discarded());
    }
    throw new IllegalArgumentException("unknown effect " + effect);
  }

  private String source() throws AgentGoneException {
    return address(plan.getSourceHost());
  }

  private String destination() throws AgentGoneException {
    return address(plan.getDestinationHost());
  }

  private String address(String host) throws AgentGoneException {
    return agents.agent(host).map(a -> a.capabilities().getAddress())
        .orElseThrow(() -> new AgentGoneException("agent " + host + " is not registered (gone?)"));
  }

  private static <T> CompletableFuture<Signal> call(Effect effect, ListenableFuture<T> rpc, Function<T, Signal> ok) {
    CompletableFuture<Signal> out = new CompletableFuture<>();
    Futures.addCallback(rpc, new FutureCallback<T>() {
      @Override
      public void onSuccess(T result) {
        try {
          out.complete(ok.apply(result));
        } catch (RuntimeException e) {
          out.complete(new Signal.StepFailed(effect.step(), "INTERNAL: unreadable answer: " + e));
        }
      }

      @Override
      public void onFailure(Throwable t) {
        Status s = Status.fromThrowable(t);
        String why = s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
        out.complete(new Signal.StepFailed(effect.step(), why));
      }
    }, MoreExecutors.directExecutor());
    return out;
  }

  static final class AgentGoneException extends Exception {
    private static final long serialVersionUID = 1L;

    AgentGoneException(String message) {
      super(message);
    }
  }
}
