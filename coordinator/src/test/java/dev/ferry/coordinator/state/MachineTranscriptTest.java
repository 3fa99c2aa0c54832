package dev.ferry.coordinator.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.coordinator.policy.Bandwidth;
import dev.ferry.coordinator.policy.ByteSize;
import dev.ferry.coordinator.policy.ConvergenceLimits;
import dev.ferry.coordinator.policy.ConvergencePolicy;
import dev.ferry.coordinator.policy.RoundSample;
import dev.ferry.coordinator.policy.StallAction;
import dev.ferry.coordinator.state.MigrationState.Committed;
import dev.ferry.coordinator.state.MigrationState.Precopy;
import dev.ferry.coordinator.state.MigrationState.RollingBack;
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
import dev.ferry.proto.TrackerKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Golden transcripts of the state machine: scripted signals in, states, effects and journal lines
 * out, compared with the reviewed {@code src/test/resources/golden/machine-transcripts.txt}.
 */
class MachineTranscriptTest {
  static final Bandwidth BW = Bandwidth.ofMiBPerSecond(100);
  static final ConvergenceLimits LIMITS = ConvergenceLimits.defaults().withSwitchoverFixedCost(Duration.ofMillis(50));
  static final CheckpointResult CHECKPOINT = new CheckpointResult(1_000_000, 2_000_000, true, "");

  static RoundDone round(int n, long dirty, double rate, int elapsedSeconds) {
    Duration copy = BW.timeFor(ByteSize.ofPages(dirty));
    return new RoundDone(new RoundSample(n, dirty, 0, ByteSize.ofPages(dirty), Duration.ofMillis(1), copy,
        copy.plusMillis(10), BW, rate, 100_000), Duration.ofSeconds(elapsedSeconds));
  }

  static final List<Signal> START = List.of(new Begin(), new ReceivePrepared(),
      new TrackingStarted(TrackerKind.SOFT_DIRTY, "soft-dirty probe passed"));
  static final List<Signal> CONVERGING = List.of(round(1, 100_000, 0, 4), round(2, 3000, 20_000, 5),
      round(3, 2950, 20_000, 5));

  @Test
  void scriptedScenariosGiveTheReviewedTranscripts() throws IOException {
    StringBuilder out = new StringBuilder();
    scenario(out, "commit and roll forward", false, LIMITS, START, CONVERGING, List.of(new Checkpointed(CHECKPOINT),
        new ImagesConfirmed(), new Restored(777), new StepFailed("resume restored", "agent unreachable"),
        new RestoredResumed(1_000_180), new CancelRequested("operator"), new SourceKilled()));
    scenario(out, "dry run ends with the prediction", true, LIMITS, START, CONVERGING, List.of());
    scenario(out, "restore fails: roll back", false, LIMITS, START, CONVERGING, List.of(new Checkpointed(CHECKPOINT),
        new ImagesConfirmed(), new StepFailed("restore", "criu restore exited 1"), new SourceResumed(),
        new Discarded()));
    scenario(out, "cancel during pre-copy, stale round ignored", false, LIMITS, START,
        List.of(round(1, 100_000, 0, 4)), List.of(new CancelRequested("cancelled by operator"),
            round(2, 3000, 20_000, 5), new StepFailed("resume source", "deadline exceeded"), new SourceResumed(),
            new Discarded(), new CancelRequested("again")));
    scenario(out, "stall with on-stall abort", false, LIMITS.withOnStall(StallAction.ABORT), START,
        List.of(round(1, 100_000, 0, 4), round(2, 60_000, 20_000, 6), round(3, 59_000, 20_000, 8),
            round(4, 58_500, 20_000, 10), round(5, 58_000, 20_000, 12), round(6, 57_000, 20_000, 14)),
        List.of(new SourceResumed(), new Discarded()));
    scenario(out, "throttle then round", false, LIMITS, START,
        List.of(round(1, 100_000, 0, 4), round(2, 90_000, 30_000, 8), new Throttled(20)), List.of());
    scenario(out, "failover in pre-copy continues", false, LIMITS, START, List.of(round(1, 100_000, 0, 4),
        new Recovered(), round(2, 3000, 20_000, 5)), List.of());
    scenario(out, "failover in pre-copy: the old leader's round was running, then unrecorded", false, LIMITS, START,
        List.of(round(1, 100_000, 0, 4), new Recovered(),
            new StepFailed("round 2", "ABORTED: migration m-1: a round or checkpoint is already running"),
            new StepFailed("round 2", "ABORTED: migration m-1: round 2 requested, 3 is next"),
            round(3, 3000, 20_000, 5)), List.of());
    scenario(out, "failover while freezing rolls back", false, LIMITS, START, CONVERGING,
        List.of(new Recovered(), new SourceResumed(), new Discarded()));
    scenario(out, "failover after commit rolls forward", false, LIMITS, START, CONVERGING,
        List.of(new Checkpointed(CHECKPOINT), new ImagesConfirmed(), new Restored(777), new Recovered(),
            new RestoredResumed(1_000_200), new Recovered(), new SourceKilled()));
    String expected = read("/golden/machine-transcripts.txt");
    if (!expected.equals(out.toString())) {
      System.out.print("---- actual transcript ----\n" + out);
    }
    assertEquals(expected, out.toString());
  }

  @SafeVarargs
  static void scenario(StringBuilder out, String title, boolean dryRun, ConvergenceLimits limits,
      List<Signal>... parts) {
    MigrationPlan plan = new MigrationPlan("m-1", 4242, "host1", "host2", limits, dryRun);
    MigrationMachine machine = new MigrationMachine(plan, new ConvergencePolicy());
    MigrationState state = MigrationMachine.initial();
    out.append("== ").append(title).append(dryRun ? " (dry run)" : "").append('\n');
    for (List<Signal> part : parts) {
      for (Signal s : part) {
        Transition t = machine.transition(state, s);
        out.append(describe(s)).append(" -> ").append(describe(t.next()));
        t.effect().ifPresent(e -> out.append(" | do ").append(e.step())
            .append(t.delay().isZero() ? "" : " after " + t.delay().toMillis() + " ms"));
        if (!t.cleanup().isEmpty()) {
          out.append(" | cleanup ").append(t.cleanup().stream().map(Effect::step).collect(Collectors.joining(", ")));
        }
        out.append('\n');
        for (Notice n : t.notices()) {
          out.append("    ").append(n instanceof Notice.Round r
              ? "round " + r.sample().round() + ": " + r.decision()
              : ((Notice.PhaseChanged) n).phase() + ": " + ((Notice.PhaseChanged) n).detail()).append('\n');
        }
        state = t.next();
      }
    }
  }

  static String describe(Signal s) {
    if (s instanceof RoundDone r) {
      return "RoundDone(" + r.sample().round() + ", dirty " + r.sample().dirtyPages() + ")";
    }
    return s.toString();
  }

  static String describe(MigrationState s) {
    if (s instanceof Precopy p) {
      return "PRECOPY(round " + p.progress().round() + ", throttle " + p.progress().history().throttlePercent() + "%"
          + (p.throttling() ? ", throttling" : "") + (p.recovering() ? ", recovering" : "") + ")";
    }
    if (s instanceof Committed c) {
      return "COMMITTED(" + c.step() + ", attempt " + c.attempt() + ")";
    }
    if (s instanceof RollingBack r) {
      return "ROLLING_BACK(" + r.step() + " -> " + r.outcome() + ", attempt " + r.attempt() + ")";
    }
    if (s instanceof MigrationState.Done d) {
      return "DONE(" + d.outcome() + ")";
    }
    if (s instanceof MigrationState.Failed f) {
      return "FAILED(" + f.reason() + ")";
    }
    if (s instanceof MigrationState.Cancelled c) {
      return "CANCELLED(" + c.reason() + ")";
    }
    if (s instanceof MigrationState.Pending p) {
      return "PENDING(" + p.step() + ")";
    }
    return s.phase().toString();
  }

  static String read(String resource) throws IOException {
    try (InputStream in = MachineTranscriptTest.class.getResourceAsStream(resource)) {
      return in == null ? "(missing " + resource + ")" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
