package dev.ferry.coordinator.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.coordinator.policy.sim.PolicyComparison;
import dev.ferry.coordinator.policy.sim.SimLink;
import dev.ferry.coordinator.policy.sim.StopRule;
import dev.ferry.coordinator.policy.sim.Simulation;
import dev.ferry.coordinator.policy.sim.Workload;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Golden transcripts: the standard simulated workloads fed round by round to the policy; every
 * decision and its reason must match the reviewed transcript in
 * {@code src/test/resources/golden/policy-transcripts.txt}. A change of policy shows up here as
 * a readable diff.
 */
class PolicyTranscriptTest {

  @Test
  void standardWorkloadsGiveTheReviewedDecisions() throws IOException {
    String expected = read("/golden/policy-transcripts.txt");
    String actual = transcripts();
    if (!expected.equals(actual)) {
      System.out.println("---- actual transcript ----\n" + actual);
    }
    assertEquals(expected, actual);
  }

  static String transcripts() {
    ConvergenceLimits limits = ConvergenceLimits.defaults().withSwitchoverFixedCost(Duration.ofMillis(100));
    SimLink link = PolicyComparison.standardLink();
    ConvergencePolicy policy = new ConvergencePolicy();
    StringBuilder out = new StringBuilder();
    for (Workload w : PolicyComparison.standardWorkloads()) {
      out.append("== ").append(w.name()).append('\n');
      List<String> lines = new ArrayList<>();
      StopRule recording = new StopRule() {
        public String name() {
          return "ferry";
        }

        public Decision after(ConvergenceHistory h, Duration elapsed) {
          Decision d = policy.decide(h, limits, elapsed);
          RoundSample r = h.last();
          lines.add(String.format(Locale.ROOT, "round %d dirty=%d -> %s", r.round(), r.dirtyPages(), d));
          return d;
        }
      };
      Simulation.run(w, link, recording, limits.downtimeLimit());
      lines.forEach(l -> out.append(l).append('\n'));
    }
    return out.toString();
  }

  static String read(String resource) throws IOException {
    try (InputStream in = PolicyTranscriptTest.class.getResourceAsStream(resource)) {
      if (in == null) {
        return "(missing " + resource + ")";
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
