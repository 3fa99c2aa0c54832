package dev.ferry.coordinator.zk;

import dev.ferry.coordinator.policy.Bandwidth;
import dev.ferry.coordinator.policy.ByteSize;
import dev.ferry.coordinator.policy.ConvergenceHistory;
import dev.ferry.coordinator.policy.ConvergenceLimits;
import dev.ferry.coordinator.policy.Decision;
import dev.ferry.coordinator.policy.RoundSample;
import dev.ferry.coordinator.policy.StallAction;
import dev.ferry.coordinator.state.CheckpointResult;
import dev.ferry.coordinator.state.MigrationPlan;
import dev.ferry.coordinator.state.MigrationState;
import dev.ferry.coordinator.state.MigrationState.Cancelled;
import dev.ferry.coordinator.state.MigrationState.CommitStep;
import dev.ferry.coordinator.state.MigrationState.Committed;
import dev.ferry.coordinator.state.MigrationState.Done;
import dev.ferry.coordinator.state.MigrationState.Failed;
import dev.ferry.coordinator.state.MigrationState.FinalCopy;
import dev.ferry.coordinator.state.MigrationState.Freezing;
import dev.ferry.coordinator.state.MigrationState.Pending;
import dev.ferry.coordinator.state.MigrationState.PendingStep;
import dev.ferry.coordinator.state.MigrationState.Precopy;
import dev.ferry.coordinator.state.MigrationState.Restoring;
import dev.ferry.coordinator.state.MigrationState.RollbackStep;
import dev.ferry.coordinator.state.MigrationState.RollingBack;
import dev.ferry.coordinator.state.Outcome;
import dev.ferry.coordinator.state.Progress;
import dev.ferry.proto.CheckpointReply;
import dev.ferry.proto.DecisionKind;
import dev.ferry.proto.MigrationLimits;
import dev.ferry.proto.MigrationPlanRecord;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.proto.MigrationSummary;
import dev.ferry.proto.Phase;
import dev.ferry.proto.RoundFigures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts between the coordinator's values (plan, state, figures, decisions) and the protobuf
 * records kept in ZooKeeper and sent to clients. The round history is not in the state record: it
 * is rebuilt from the journal's round events.
 */
public final class RecordCodec {
  private RecordCodec() {}

  // ---- limits ----

  /** Effective limits: zero fields take the defaults, the fixed cost the host's estimate. */
  public static ConvergenceLimits limits(MigrationLimits l, Duration hostSwitchoverCost) {
    ConvergenceLimits d = ConvergenceLimits.defaults();
    return new ConvergenceLimits(
        l.getDowntimeLimitMillis() == 0 ? d.downtimeLimit() : Duration.ofMillis(l.getDowntimeLimitMillis()),
        l.getMaxRounds() == 0 ? d.maxRounds() : l.getMaxRounds(),
        l.getMaxPrecopyMillis() == 0 ? d.maxPrecopy() : Duration.ofMillis(l.getMaxPrecopyMillis()),
        l.getBandwidthLimitBytesPerSec() == 0 ? Bandwidth.UNLIMITED : new Bandwidth(l.getBandwidthLimitBytesPerSec()),
        stallAction(l.getOnStall()),
        l.getStallRounds() == 0 ? d.stallRounds() : l.getStallRounds(),
        l.getSwitchoverFixedCostMillis() == 0 ? hostSwitchoverCost : Duration.ofMillis(l.getSwitchoverFixedCostMillis()));
  }

  public static MigrationLimits limits(ConvergenceLimits l) {
    return MigrationLimits.newBuilder()
        .setDowntimeLimitMillis(l.downtimeLimit().toMillis())
        .setMaxRounds(l.maxRounds())
        .setMaxPrecopyMillis(l.maxPrecopy().toMillis())
        .setBandwidthLimitBytesPerSec(l.bandwidthCap().isUnlimited() ? 0 : (long) l.bandwidthCap().bytesPerSecond())
        .setOnStall(switch (l.onStall()) {
          case FREEZE -> dev.ferry.proto.StallAction.STALL_FREEZE;
          case ABORT -> dev.ferry.proto.StallAction.STALL_ABORT;
          default -> dev.ferry.proto.StallAction.STALL_THROTTLE;
        })
        .setStallRounds(l.stallRounds())
        .setSwitchoverFixedCostMillis(l.switchoverFixedCost().toMillis())
        .build();
  }

  static StallAction stallAction(dev.ferry.proto.StallAction a) {
    return switch (a) {
      case STALL_FREEZE -> StallAction.FREEZE;
      case STALL_ABORT -> StallAction.ABORT;
      default -> StallAction.THROTTLE;
    };
  }

  // ---- plan ----

  public static MigrationPlan plan(MigrationPlanRecord r) {
    return new MigrationPlan(r.getId(), r.getPid(), r.getSourceHost(), r.getDestinationHost(),
        limits(r.getLimits(), Duration.ofMillis(r.getLimits().getSwitchoverFixedCostMillis())), r.getDryRun());
  }

  // ---- figures and decisions ----

  public static RoundSample sample(RoundFigures f) {
    return new RoundSample(f.getRound(), f.getDirtyPages(), f.getZeroPages(), new ByteSize(Math.max(0, f.getBytesSent())),
        Duration.ofNanos(f.getFreezeWindowMicros() * 1000), Duration.ofNanos(f.getCopyMicros() * 1000),
        Duration.ofNanos(f.getRoundMicros() * 1000),
        new Bandwidth(Math.max(0, finite(f.getBandwidthBytesPerSec()))), Math.max(0, finite(f.getDirtyPagesPerSec())),
        f.getTotalPages());
  }

  private static double finite(double d) {
    return Double.isFinite(d) ? d : 0;
  }

  public static dev.ferry.proto.Decision decision(Decision d) {
    return dev.ferry.proto.Decision.newBuilder()
        .setKind(DecisionKind.forNumber(d.kind().ordinal() + 1))
        .setThrottlePercent(d.throttlePercent())
        .setReason(d.reason())
        .setExpectedDowntimeMillis(Math.round(d.expectedDowntime().toNanos() / 1e6))
        .build();
  }

  public static Decision decision(dev.ferry.proto.Decision d) {
    Decision.Kind kind = Decision.Kind.values()[Math.max(0, d.getKindValue() - 1) % Decision.Kind.values().length];
    return new Decision(kind, d.getThrottlePercent(), d.getReason(), Duration.ofMillis(d.getExpectedDowntimeMillis()));
  }

  // ---- state ----

  public static MigrationStateRecord.Builder record(MigrationState s) {
    MigrationStateRecord.Builder b = MigrationStateRecord.newBuilder().setPhase(s.phase());
    if (s instanceof Pending p) {
      b.setStep(p.step().name());
    } else if (s instanceof Precopy p) {
      progress(b, p.progress()).setThrottling(p.throttling());
    } else if (s instanceof Freezing f) {
      progress(b, f.progress());
    } else if (s instanceof FinalCopy f) {
      progress(b, f.progress()).setCheckpoint(checkpoint(f.checkpoint()));
    } else if (s instanceof Restoring r) {
      progress(b, r.progress()).setCheckpoint(checkpoint(r.checkpoint()));
    } else if (s instanceof Committed c) {
      progress(b, c.progress()).setCheckpoint(checkpoint(c.checkpoint())).setRestoredPid(c.restoredPid())
          .setStep(c.step().name()).setResumedUnixMillis(c.resumedAtUnixMillis()).setAttempt(c.attempt());
    } else if (s instanceof RollingBack r) {
      progress(b, r.progress()).setOutcome(r.outcome()).setReason(r.reason()).setStep(r.step().name())
          .setAttempt(r.attempt());
    } else if (s instanceof Done d) {
      b.setSummary(summary(d.outcome())).setReason(d.reason()).setRestoredPid(d.outcome().restoredPid());
    } else if (s instanceof Failed f) {
      b.setSummary(summary(f.outcome())).setReason(f.reason());
    } else if (s instanceof Cancelled c) {
      b.setSummary(summary(c.outcome())).setReason(c.reason());
    }
    return b;
  }

  private static MigrationStateRecord.Builder progress(MigrationStateRecord.Builder b, Progress p) {
    b.setRound(p.round()).setTracker(p.tracker()).setThrottlePercent(p.history().throttlePercent())
        .setThrottleSinceRound(p.history().throttleSinceRound());
    if (p.lastDecision() != null) {
      b.setLastDecision(decision(p.lastDecision()));
    }
    return b;
  }

  /** The state a record describes; {@code rounds}: the journal's round samples, in order. */
  public static MigrationState state(MigrationStateRecord r, List<RoundSample> rounds) {
    Progress p = progress(r, rounds);
    CheckpointResult cp = checkpoint(r.getCheckpoint());
    Outcome outcome = outcome(r.getSummary());
    return switch (r.getPhase()) {
      case PENDING -> new Pending(PendingStep.valueOf(r.getStep()));
      case PRECOPY -> new Precopy(p, r.getThrottling());
      case FREEZING -> new Freezing(p);
      case FINAL_COPY -> new FinalCopy(p, cp);
      case RESTORING -> new Restoring(p, cp);
      case COMMITTED -> new Committed(p, cp, r.getRestoredPid(), CommitStep.valueOf(r.getStep()),
          r.getResumedUnixMillis(), r.getAttempt());
      case ROLLING_BACK -> new RollingBack(r.getOutcome(), r.getReason(), p, RollbackStep.valueOf(r.getStep()),
          r.getAttempt());
      case DONE -> new Done(outcome, r.getReason());
      case CANCELLED -> new Cancelled(outcome, r.getReason());
      default -> new Failed(outcome, r.getReason());
    };
  }

  private static Progress progress(MigrationStateRecord r, List<RoundSample> rounds) {
    List<RoundSample> upTo = new ArrayList<>();
    for (RoundSample s : rounds) {
      if (s.round() <= r.getRound()) {
        upTo.add(s);
      }
    }
    ConvergenceHistory h = new ConvergenceHistory(upTo, r.getThrottlePercent(), r.getThrottleSinceRound());
    return new Progress(r.getTracker(), h, r.hasLastDecision() ? decision(r.getLastDecision()) : null);
  }

  public static CheckpointReply checkpoint(CheckpointResult c) {
    return CheckpointReply.newBuilder().setFreezeStartedUnixMillis(c.freezeStartedUnixMillis())
        .setFinalImagesBytes(c.finalImagesBytes()).setParentUsed(c.parentUsed()).setDetail(c.detail()).build();
  }

  public static CheckpointResult checkpoint(CheckpointReply c) {
    return new CheckpointResult(c.getFreezeStartedUnixMillis(), c.getFinalImagesBytes(), c.getParentUsed(),
        c.getDetail());
  }

  public static MigrationSummary summary(Outcome o) {
    return MigrationSummary.newBuilder()
        .setRounds(o.rounds())
        .setBytesSent(o.bytesSent())
        .setDowntimeMillis(o.downtime().toMillis())
        .setRestoredPid(o.restoredPid())
        .setParentUsed(o.parentUsed())
        .setPredictedDowntimeMillis(Math.round(o.predictedDowntime().toNanos() / 1e6))
        .setWouldConverge(o.wouldConverge())
        .build();
  }

  static Outcome outcome(MigrationSummary s) {
    return new Outcome(s.getRounds(), s.getBytesSent(), Duration.ofMillis(s.getDowntimeMillis()), s.getRestoredPid(),
        s.getParentUsed(), Duration.ofMillis(s.getPredictedDowntimeMillis()), s.getWouldConverge());
  }

  /** True for DONE, FAILED and CANCELLED. */
  public static boolean terminal(Phase p) {
    return p == Phase.DONE || p == Phase.FAILED || p == Phase.CANCELLED;
  }
}
