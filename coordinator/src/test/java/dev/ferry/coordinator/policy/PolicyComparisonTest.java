package dev.ferry.coordinator.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.coordinator.policy.sim.PolicyComparison;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulator's comparison meets the goals: Ferry meets the limit wherever an anchor
 * does, never with a worse downtime than the best anchor, within 1.2x of the fewest bytes.
 */
class PolicyComparisonTest {
  @Test
  void ferryMeetsTheGoalsOnTheStandardWorkloads() {
    List<PolicyComparison.Row> rows = PolicyComparison.run(PolicyComparison.standardWorkloads(),
        PolicyComparison.standardLink(), ConvergenceLimits.defaults());
    PolicyComparison.Summary s = PolicyComparison.summarize(rows);
    assertEquals(4, s.workloads());
    assertTrue(s.limitMet() >= s.anchorsBestMet(), s.line());
    assertEquals(0, s.worseDowntime(), s.line());
    assertTrue(s.bytesRatioMax() <= 1.2, s.line());
  }
}
