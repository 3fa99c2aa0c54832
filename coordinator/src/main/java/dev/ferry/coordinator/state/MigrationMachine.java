package dev.ferry.coordinator.state;

import dev.ferry.coordinator.policy.ConvergenceHistory;
import dev.ferry.coordinator.policy.ConvergencePolicy;
import dev.ferry.coordinator.policy.Decision;
import dev.ferry.coordinator.policy.DryRunVerdict;
import dev.ferry.coordinator.state.Effect.Checkpoint;
import dev.ferry.coordinator.state.Effect.ConfirmImages;
import dev.ferry.coordinator.state.Effect.Discard;
import dev.ferry.coordinator.state.Effect.KillSource;
import dev.ferry.coordinator.state.Effect.PrepareReceive;
import dev.ferry.coordinator.state.Effect.Restore;
import dev.ferry.coordinator.state.Effect.ResumeRestored;
import dev.ferry.coordinator.state.Effect.ResumeSource;
import dev.ferry.coordinator.state.Effect.RunRound;
import dev.ferry.coordinator.state.Effect.StartTracking;
import dev.ferry.coordinator.state.Effect.StopTracking;
import dev.ferry.coordinator.state.Effect.Throttle;
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
import dev.ferry.coordinator.state.Notice.PhaseChanged;
import dev.ferry.coordinator.state.Signal.Begin;
import dev.ferry.coordinator.state.Signal.CancelRequested;
import dev.ferry.coordinator.state.Signal.Checkpointed;
import dev.ferry.coordinator.state.Signal.Discarded;
import dev.ferry.coordinator.state.Signal.ImagesConfirmed;
import dev.ferry.coordinator.state.Signal.ReceivePrepared;
import dev.ferry.coordinator.state.Signal.Recovered;
import dev.ferry.coordinator.state.Signal.Restored;
import dev.ferry.coordinator.state.Signal.RestoredResumed;
import dev.ferry.coordinator.state.Signal.RoundDone;
import dev.ferry.coordinator.state.Signal.SourceKilled;
import dev.ferry.coordinator.state.Signal.SourceResumed;
import dev.ferry.coordinator.state.Signal.StepFailed;
import dev.ferry.coordinator.state.Signal.Throttled;
import dev.ferry.coordinator.state.Signal.TrackingStarted;
import dev.ferry.proto.Phase;
import java.time.Duration;
import java.util.List;

/**
 * The migration state machine: a pure {@code transition(state, signal) -> (next, effect)}. The
 * edge records {@code next} in ZooKeeper by compare-and-set and only then runs the effect, whose
 * result comes back as the next signal.
 *
 * <pre>
 *  PENDING --prepared, tracking--> PRECOPY(1) --CONTINUE--> PRECOPY(k+1)   (THROTTLE: set, then round)
 *     |                               |  FREEZE (dry run: DONE with the prediction; ABORT: rollback)
 *     |                               v
 *     |                           FREEZING --checkpointed--> FINAL_COPY --confirmed--> RESTORING
 *     |                               |                          |                        | restored
 *     |  failure / cancel / failover  |                          |                        v
 *     +------------------------------>+--------------------------+---------------> [commit point, CAS]
 *                                     v                                                    |
 *                               ROLLING_BACK                                           COMMITTED
 *                  (resume source, then discard dest.)                   (resume restored, kill source;
 *                                     |                                   failures and failover retry:
 *                            FAILED | CANCELLED                                 roll forward)
 *                                                                                   |
 *                                                                                  DONE
 * </pre>
 *
 * Invariants: before the commit the source copy is the only one that may run; the destination
 * copy runs only after COMMITTED is recorded; after it nothing rolls back. A failover in
 * PRECOPY continues with the next round; in PENDING, FREEZING, FINAL_COPY or RESTORING it rolls
 * back; in COMMITTED or ROLLING_BACK it repeats the step in progress (every step is idempotent).
 * A round the old leader ran but did not record is skipped (the agent answers ABORTED naming its
 * next round; the pages of the skipped round reached the destination all the same).
 */
public final class MigrationMachine {
  /** Rollback resumes the source process; a frozen process matters, so keep trying a while. */
  static final int MAX_RESUME_ATTEMPTS = 10;
  static final int MAX_DISCARD_ATTEMPTS = 3;
  static final Duration FIRST_RETRY = Duration.ofMillis(200);
  static final Duration MAX_RETRY = Duration.ofSeconds(10);

  private final MigrationPlan plan;
  private final ConvergencePolicy policy;

  public MigrationMachine(MigrationPlan plan, ConvergencePolicy policy) {
    this.plan = plan;
    this.policy = policy;
  }

  public static MigrationState initial() {
    return new Pending(PendingStep.PREPARE_RECEIVE);
  }

  public Transition transition(MigrationState state, Signal signal) {
    if (state.terminal()) {
      return Transition.stay(state);
    }
    if (signal instanceof CancelRequested c) {
      return state.beforeCommit() ? rollback(state, Phase.CANCELLED, c.reason()) : Transition.stay(state);
    }
    if (signal instanceof StepFailed f && state instanceof Precopy p && p.recovering()
        && f.step().equals(new RunRound(p.progress().round() + 1).step()) && f.reason().startsWith("ABORTED")) {
      return recoveringRound(p, f);
    }
    if (signal instanceof StepFailed f && state.beforeCommit()) {
      return rollback(state, Phase.FAILED, f.step() + " failed: " + f.reason());
    }
    if (state instanceof Pending p) {
      return pending(p, signal);
    }
    if (state instanceof Precopy p) {
      return precopy(p, signal);
    }
    if (state instanceof Freezing f) {
      if (signal instanceof Checkpointed c) {
        String detail = c.result().finalImagesBytes() + " bytes of final images"
            + (c.result().parentUsed() ? ", parent used" : ", CRIU did a full dump") + detailSuffix(c.result().detail());
        return Transition.to(new FinalCopy(f.progress(), c.result()), new ConfirmImages(),
            new PhaseChanged(Phase.FINAL_COPY, detail));
      }
      return recoveredBeforeCommit(state, signal, f.progress());
    }
    if (state instanceof FinalCopy f) {
      if (signal instanceof ImagesConfirmed) {
        return Transition.to(new Restoring(f.progress(), f.checkpoint()), new Restore(),
            new PhaseChanged(Phase.RESTORING, "restoring on " + plan.destinationHost()));
      }
      return recoveredBeforeCommit(state, signal, f.progress());
    }
    if (state instanceof Restoring r) {
      if (signal instanceof Restored x) {
        return Transition.to(new Committed(r.progress(), r.checkpoint(), x.pid(), CommitStep.RESUME_RESTORED, 0, 0),
            new ResumeRestored(), new PhaseChanged(Phase.COMMITTED,
                "owner " + plan.destinationHost() + ", restored pid " + x.pid()));
      }
      return recoveredBeforeCommit(state, signal, r.progress());
    }
    if (state instanceof Committed c) {
      return committed(c, signal);
    }
    if (state instanceof RollingBack r) {
      return rollingBack(r, signal);
    }
    return Transition.stay(state);
  }

  private Transition pending(Pending p, Signal signal) {
    if (signal instanceof Begin && p.step() == PendingStep.PREPARE_RECEIVE) {
      return Transition.to(p, new PrepareReceive());
    }
    if (signal instanceof ReceivePrepared && p.step() == PendingStep.PREPARE_RECEIVE) {
      return Transition.to(new Pending(PendingStep.START_TRACKING), new StartTracking());
    }
    if (signal instanceof TrackingStarted t && p.step() == PendingStep.START_TRACKING) {
      Progress progress = new Progress(t.tracker(), ConvergenceHistory.EMPTY, null);
      return Transition.to(new Precopy(progress, false), new RunRound(1),
          new PhaseChanged(Phase.PRECOPY, "tracker " + t.tracker() + detailSuffix(t.reason())));
    }
    return recoveredBeforeCommit(p, signal, Progress.NONE);
  }

  private Transition precopy(Precopy p, Signal signal) {
    Progress progress = p.progress();
    if (signal instanceof Recovered) {
      return p.throttling()
          ? Transition.to(p, new Throttle(progress.history().throttlePercent()))
          : Transition.to(new Precopy(progress, false, true), new RunRound(progress.round() + 1));
    }
    if (signal instanceof Throttled && p.throttling()) {
      return Transition.to(new Precopy(progress, false), new RunRound(progress.round() + 1));
    }
    if (!(signal instanceof RoundDone done) || p.throttling()) {
      return Transition.stay(p);
    }
    if (done.sample().round() <= progress.round()) {
      return rollback(p, Phase.FAILED, "round " + done.sample().round() + " reported after round "
          + progress.round());
    }
    ConvergenceHistory history = progress.history().after(done.sample());
    Decision d = policy.decide(history, plan.limits(), done.elapsed());
    Notice.Round round = new Notice.Round(done.sample(), d);
    Progress next = new Progress(progress.tracker(), history, d);
    switch (d.kind()) {
      case CONTINUE:
        return Transition.to(new Precopy(next, false), new RunRound(history.lastRound() + 1), round);
      case THROTTLE: {
        Progress throttled = new Progress(progress.tracker(), history.withThrottle(d.throttlePercent()), d);
        return Transition.to(new Precopy(throttled, true), new Throttle(d.throttlePercent()), round);
      }
      case FREEZE:
        if (plan.dryRun()) {
          return dryRunDone(next, round);
        }
        return Transition.to(new Freezing(next), new Checkpoint(history.lastRound() + 1), round,
            new PhaseChanged(Phase.FREEZING, d.reason()));
      case ABORT:
      default:
        if (plan.dryRun()) {
          return dryRunDone(next, round);
        }
        Transition back = rollback(new Precopy(next, false), Phase.FAILED, "pre-copy aborted: " + d.reason());
        return withNotice(back, round);
    }
  }

  /**
   * After a failover the source agent may be ahead of the record: the old leader's last round is
   * still running (retry shortly), or ran without being recorded (the agent's ABORTED names its
   * next round; that round's pages reached the destination all the same, so go on from there).
   */
  private Transition recoveringRound(Precopy p, StepFailed f) {
    java.util.regex.Matcher m = NEXT_ROUND.matcher(f.reason());
    int recorded = p.progress().round();
    if (m.find()) {
      int next = Integer.parseInt(m.group(1));
      if (next > recorded + 1) {
        return Transition.to(new Precopy(p.progress(), false), new RunRound(next));
      }
    }
    return Transition.retry(p, new RunRound(recorded + 1), FIRST_RETRY);
  }

  private static final java.util.regex.Pattern NEXT_ROUND = java.util.regex.Pattern.compile("(\\d+) is next");

  private Transition dryRunDone(Progress progress, Notice round) {
    DryRunVerdict v = DryRunVerdict.from(progress.lastDecision(), plan.limits());
    Outcome outcome = new Outcome(progress.round(), progress.history().totalSent().bytes(), Duration.ZERO, 0, false,
        v.predictedDowntime(), v.wouldConverge());
    String reason = "dry run: " + (v.wouldConverge() ? "would converge" : "would not converge")
        + ", predicted downtime " + Math.round(v.predictedDowntime().toNanos() / 1e6) + " ms (" + v.reason() + ")";
    return Transition.finish(new Done(outcome, reason), List.of(new StopTracking(), new Discard()), round,
        new PhaseChanged(Phase.DONE, reason));
  }

  private Transition committed(Committed c, Signal signal) {
    if (signal instanceof Recovered) {
      return Transition.to(c, stepEffect(c.step()));
    }
    if (signal instanceof StepFailed f && f.step().equals(stepEffect(c.step()).step())) {
      Committed again = new Committed(c.progress(), c.checkpoint(), c.restoredPid(), c.step(), c.resumedAtUnixMillis(),
          c.attempt() + 1);
      return Transition.retry(again, stepEffect(c.step()), backoff(c.attempt()));
    }
    if (signal instanceof RestoredResumed r && c.step() == CommitStep.RESUME_RESTORED) {
      return Transition.to(new Committed(c.progress(), c.checkpoint(), c.restoredPid(), CommitStep.KILL_SOURCE,
          r.atUnixMillis(), 0), new KillSource());
    }
    if (signal instanceof SourceKilled && c.step() == CommitStep.KILL_SOURCE) {
      long downMillis = Math.max(0, c.resumedAtUnixMillis() - c.checkpoint().freezeStartedUnixMillis());
      Progress p = c.progress();
      Outcome outcome = new Outcome(p.round(), p.history().totalSent().bytes() + c.checkpoint().finalImagesBytes(),
          Duration.ofMillis(downMillis), c.restoredPid(), c.checkpoint().parentUsed(), p.predictedDowntime(),
          p.lastDecision() != null && p.predictedDowntime().compareTo(plan.limits().downtimeLimit()) <= 0);
      String reason = "moved to " + plan.destinationHost() + " as pid " + c.restoredPid() + ", downtime "
          + downMillis + " ms";
      return Transition.finish(new Done(outcome, reason), List.of(new StopTracking()),
          new PhaseChanged(Phase.DONE, reason));
    }
    return Transition.stay(c);
  }

  private static Effect stepEffect(CommitStep step) {
    return step == CommitStep.RESUME_RESTORED ? new ResumeRestored() : new KillSource();
  }

  private Transition rollingBack(RollingBack r, Signal signal) {
    Effect current = r.step() == RollbackStep.RESUME_SOURCE ? new ResumeSource() : new Discard();
    if (signal instanceof Recovered) {
      return Transition.to(r, current);
    }
    if (signal instanceof StepFailed f && f.step().equals(current.step())) {
      int limit = r.step() == RollbackStep.RESUME_SOURCE ? MAX_RESUME_ATTEMPTS : MAX_DISCARD_ATTEMPTS;
      if (r.attempt() + 1 < limit) {
        return Transition.retry(new RollingBack(r.outcome(), r.reason(), r.progress(), r.step(), r.attempt() + 1),
            current, backoff(r.attempt()));
      }
      String what = r.step() == RollbackStep.RESUME_SOURCE
          ? "could not resume the source process on " + plan.sourceHost() + " (check it): " + f.reason()
          : "could not discard the destination store on " + plan.destinationHost() + ": " + f.reason();
      return end(r, r.reason() + "; " + what);
    }
    if (signal instanceof SourceResumed && r.step() == RollbackStep.RESUME_SOURCE) {
      return Transition.to(new RollingBack(r.outcome(), r.reason(), r.progress(), RollbackStep.DISCARD, 0),
          new Discard());
    }
    if (signal instanceof Discarded && r.step() == RollbackStep.DISCARD) {
      return end(r, r.reason());
    }
    return Transition.stay(r);
  }

  private Transition end(RollingBack r, String reason) {
    Progress p = r.progress();
    Outcome outcome = new Outcome(p.round(), p.history().totalSent().bytes(), Duration.ZERO, 0, false,
        p.predictedDowntime(), false);
    MigrationState last = r.outcome() == Phase.CANCELLED ? new Cancelled(outcome, reason) : new Failed(outcome, reason);
    return Transition.finish(last, List.of(new StopTracking()), new PhaseChanged(last.phase(), reason));
  }

  private Transition recoveredBeforeCommit(MigrationState state, Signal signal, Progress progress) {
    if (signal instanceof Recovered) {
      return rollback(state, Phase.FAILED, "coordinator failover during " + state.phase() + ", rolled back");
    }
    return Transition.stay(state);
  }

  private Transition rollback(MigrationState state, Phase outcome, String reason) {
    Progress progress = progressOf(state);
    return Transition.to(new RollingBack(outcome, reason, progress, RollbackStep.RESUME_SOURCE, 0),
        new ResumeSource(), new PhaseChanged(Phase.ROLLING_BACK, reason));
  }

  static Progress progressOf(MigrationState s) {
    if (s instanceof Precopy p) {
      return p.progress();
    }
    if (s instanceof Freezing f) {
      return f.progress();
    }
    if (s instanceof FinalCopy f) {
      return f.progress();
    }
    if (s instanceof Restoring r) {
      return r.progress();
    }
    if (s instanceof Committed c) {
      return c.progress();
    }
    if (s instanceof RollingBack r) {
      return r.progress();
    }
    return Progress.NONE;
  }

  private static Transition withNotice(Transition t, Notice first) {
    List<Notice> all = new java.util.ArrayList<>();
    all.add(first);
    all.addAll(t.notices());
    return new Transition(t.next(), t.effect(), t.delay(), t.cleanup(), all);
  }

  static Duration backoff(int attempt) {
    Duration d = FIRST_RETRY.multipliedBy(1L << Math.min(attempt, 10));
    return d.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : d;
  }

  private static String detailSuffix(String detail) {
    return detail == null || detail.isEmpty() ? "" : " (" + detail + ")";
  }
}
