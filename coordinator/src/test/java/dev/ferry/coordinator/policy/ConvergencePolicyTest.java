package dev.ferry.coordinator.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.coordinator.policy.Decision.Kind;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-written rounds for the rules the standard workloads do not reach. */
class ConvergencePolicyTest {
  static final Bandwidth BW = Bandwidth.ofMiBPerSecond(100); // 25,600 pages/s
  final ConvergencePolicy policy = new ConvergencePolicy();
  final ConvergenceLimits limits = ConvergenceLimits.defaults().withSwitchoverFixedCost(Duration.ofMillis(50));

  /** A round of {@code dirty} pages copied at 100 MiB/s, dirtied at {@code rate} pages/s. */
  static RoundSample round(int n, long dirty, double rate) {
    Duration copy = BW.timeFor(ByteSize.ofPages(dirty));
    return new RoundSample(n, dirty, 0, ByteSize.ofPages(dirty), Duration.ofMillis(1), copy,
        copy.plusMillis(10), BW, rate, 100_000);
  }

  static ConvergenceHistory rounds(long... dirty) {
    ConvergenceHistory h = ConvergenceHistory.EMPTY;
    for (int i = 0; i < dirty.length; i++) {
      h = h.after(round(i + 1, dirty[i], i == 0 ? 0 : 20_000));
    }
    return h;
  }

  @Test
  void freezesWhenTheDeltaFitsAndStoppedShrinking() {
    Decision d = policy.decide(rounds(100_000, 3000, 2950), limits, Duration.ofSeconds(5));
    assertEquals(Kind.FREEZE, d.kind());
    // 2950 pages copied in 125 ms at 20,000 pages/s: 2500 pages pending, 98 ms + 50 ms fixed.
    assertEquals("expected downtime 148 ms <= limit 300 ms", d.reason());
  }

  @Test
  void writerFasterThanTheLinkIsAStallAndThrottlesLikeAutoConverge() {
    ConvergenceHistory h = ConvergenceHistory.EMPTY.after(round(1, 100_000, 0)).after(round(2, 90_000, 30_000));
    Decision d = policy.decide(h, limits, Duration.ofSeconds(5));
    assertEquals(Kind.THROTTLE, d.kind());
    assertEquals(20, d.throttlePercent());
    assertTrue(d.reason().startsWith("dirty rate 117.2 MiB/s >= bandwidth 100.0 MiB/s"), d.reason());
    h = h.withThrottle(20).after(round(3, 89_000, 29_000));
    assertEquals(30, policy.decide(h, limits, Duration.ofSeconds(6)).throttlePercent());
    h = h.withThrottle(90).after(round(4, 88_000, 29_000));
    assertEquals(99, policy.decide(h, limits, Duration.ofSeconds(7)).throttlePercent());
    h = h.withThrottle(99).after(round(5, 88_000, 29_000));
    Decision atMax = policy.decide(h, limits, Duration.ofSeconds(8));
    assertEquals(Kind.CONTINUE, atMax.kind());
    assertTrue(atMax.reason().contains("at throttle 99 %"), atMax.reason());
  }

  @Test
  void onStallFreezeAndAbortDoWhatTheOperatorChose() {
    ConvergenceHistory early = rounds(100_000, 60_000, 59_000);
    assertEquals(Kind.CONTINUE, policy.decide(early, limits.withOnStall(StallAction.ABORT), Duration.ofSeconds(5)).kind(),
        "abort waits for the whole stall window");
    ConvergenceHistory h = rounds(100_000, 60_000, 59_000, 58_500, 58_000);
    Decision freeze = policy.decide(h, limits.withOnStall(StallAction.FREEZE), Duration.ofSeconds(5));
    assertEquals(Kind.FREEZE, freeze.kind());
    assertTrue(freeze.reason().startsWith("dirty set not shrinking (-1 % a round over 3 rounds), freezing anyway: expected downtime"),
        freeze.reason());
    Decision abort = policy.decide(h, limits.withOnStall(StallAction.ABORT), Duration.ofSeconds(5));
    assertEquals(Kind.ABORT, abort.kind());
    assertTrue(abort.reason().endsWith("(on-stall abort)"), abort.reason());
  }

  @Test
  void capsEndPreCopy() {
    ConvergenceHistory h = rounds(100_000, 60_000, 40_000);
    Decision rounds = policy.decide(h, limits.withMaxRounds(3), Duration.ofSeconds(5));
    assertEquals(Kind.FREEZE, rounds.kind());
    assertTrue(rounds.reason().startsWith("max rounds 3 reached, freezing anyway"), rounds.reason());
    Decision time = policy.decide(h, limits.withMaxPrecopy(Duration.ofSeconds(60)).withOnStall(StallAction.ABORT),
        Duration.ofSeconds(61));
    assertEquals(Kind.ABORT, time.kind());
    assertTrue(time.reason().startsWith("max pre-copy time 60 s reached"), time.reason());
  }

  @Test
  void bandwidthCapLowersTheBandwidthTheEstimateUses() {
    ConvergenceHistory h = rounds(100_000, 3000, 2950);
    Decision capped = policy.decide(h, limits.withBandwidthCap(Bandwidth.ofMiBPerSecond(10)), Duration.ofSeconds(5));
    assertEquals(Kind.THROTTLE, capped.kind());
    assertTrue(capped.expectedDowntime().toMillis() > 300, capped.toString());
    assertTrue(capped.reason().contains(">= bandwidth 10.0 MiB/s"), capped.reason());
  }

  @Test
  void firstRoundNeverFreezes() {
    Decision d = policy.decide(rounds(10), limits, Duration.ofSeconds(1));
    assertEquals(Kind.CONTINUE, d.kind());
  }

  @Test
  void dryRunVerdictFollowsTheLastDecision() {
    Decision freeze = policy.decide(rounds(100_000, 3000, 2950), limits, Duration.ofSeconds(5));
    DryRunVerdict v = DryRunVerdict.from(freeze, limits);
    assertTrue(v.wouldConverge());
    assertEquals(147, v.predictedDowntime().toMillis());
    Decision abort = policy.decide(rounds(100_000, 60_000, 59_000, 58_500, 58_000), limits.withOnStall(StallAction.ABORT),
        Duration.ofSeconds(5));
    assertFalse(DryRunVerdict.from(abort, limits).wouldConverge());
  }

  @Test
  void limitsOutOfRangeAreNamed() {
    ConvergenceLimits bad = limits.withDowntimeLimit(Duration.ZERO).withMaxRounds(0).withStallRounds(500)
        .withBandwidthCap(new Bandwidth(1000));
    assertEquals(List.of("downtime limit 0 ms is out of range [1 ms, 10 min]",
        "max rounds 0 is out of range [1, 1000]",
        "bandwidth cap 1000 B/s is below 1 MiB/s",
        "stall rounds 500 is out of range [1, 100]"), bad.problems());
    assertEquals(List.of(), ConvergenceLimits.defaults().problems());
  }

  @Test
  void switchoverCostFollowsMeasurements() {
    Duration next = SwitchoverCost.updated(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(50));
    assertEquals(130, next.toMillis());
  }
}
