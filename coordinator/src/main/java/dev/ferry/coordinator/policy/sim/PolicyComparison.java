package dev.ferry.coordinator.policy.sim;

import dev.ferry.coordinator.policy.Bandwidth;
import dev.ferry.coordinator.policy.ConvergenceLimits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Ferry's policy against the anchors' rules on the standard workloads; the figures behind
 * {@code bin/ferry-bench policy}.
 *
 * <p>Scoring, per workload: "limit met" means the process moved within the downtime limit. Ferry's
 * downtime counts as worse when it exceeds the best anchor's by more than a millisecond (the
 * resolution of the report). The bytes ratio is Ferry's bytes over the fewest bytes of any rule
 * that met the limit (over all rules if none did): bytes saved by missing the limit do not count.
 */
public final class PolicyComparison {
  public static final long PAGES_1G = 262_144;

  public record Row(String workload, List<SimResult> results) {
    SimResult ferry() {
      return results.get(0);
    }
  }

  public record Summary(int workloads, int limitMet, int anchorsBestMet, int worseDowntime, double bytesRatioMax) {
    public String line() {
      return String.format(Locale.ROOT, "workloads=%d limit_met=%d anchors_best_met=%d worse_downtime=%d bytes_ratio_max=%.2f",
          workloads, limitMet, anchorsBestMet, worseDowntime, bytesRatioMax);
    }
  }

  public static SimLink standardLink() {
    return new SimLink(Bandwidth.ofMiBPerSecond(500), Duration.ofMillis(25), Duration.ofMillis(100));
  }

  public static List<Workload> standardWorkloads() {
    return List.of(
        Workload.uniform("uniform 100MiB/s", PAGES_1G, 25_600),
        Workload.hotCold("hot 96MiB + cold", PAGES_1G, 24_576, 100_000, 500),
        Workload.growing("growing set", PAGES_1G / 2, 16_384, 4_096, 50_000),
        Workload.uniform("writer > link", PAGES_1G, 180_000));
  }

  public static List<Row> run(List<Workload> workloads, SimLink link, ConvergenceLimits limits) {
    List<Row> rows = new ArrayList<>();
    Duration limit = limits.downtimeLimit();
    ConvergenceLimits ferryLimits = limits.withSwitchoverFixedCost(link.switchoverFixedCost());
    for (Workload w : workloads) {
      List<SimResult> results = List.of(
          Simulation.run(w, link, AnchorRules.ferry(ferryLimits), limit),
          Simulation.run(w, link, AnchorRules.phaul(), limit),
          Simulation.run(w, link, AnchorRules.lxd(), limit),
          Simulation.run(w, link, AnchorRules.qemu(limit), limit));
      rows.add(new Row(w.name(), results));
    }
    return rows;
  }

  public static Summary summarize(List<Row> rows) {
    int met = 0;
    int anchorsMet = 0;
    int worse = 0;
    double ratioMax = 0;
    for (Row row : rows) {
      SimResult ferry = row.ferry();
      List<SimResult> anchors = row.results().subList(1, row.results().size());
      if (ferry.limitMet()) {
        met++;
      }
      if (anchors.stream().anyMatch(SimResult::limitMet)) {
        anchorsMet++;
      }
      long bestAnchor = anchors.stream().filter(r -> !r.aborted()).mapToLong(r -> r.downtime().toNanos()).min()
          .orElse(Long.MAX_VALUE);
      if (!ferry.aborted() && ferry.downtime().toNanos() > bestAnchor + 1_000_000) {
        worse++;
      }
      boolean anyMet = row.results().stream().anyMatch(SimResult::limitMet);
      long fewest = row.results().stream().filter(r -> !anyMet || r.limitMet()).mapToLong(SimResult::totalBytes)
          .min().orElse(ferry.totalBytes());
      ratioMax = Math.max(ratioMax, ferry.totalBytes() / (double) fewest);
    }
    return new Summary(rows.size(), met, anchorsMet, worse, ratioMax);
  }

  public static String table(List<Row> rows, Duration limit) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "downtime limit %d ms%n", limit.toMillis()));
    out.append(String.format(Locale.ROOT, "%-18s %-7s %6s %10s %9s %11s %5s %8s%n", "workload", "rule", "rounds",
        "MiB sent", "total s", "downtime ms", "met", "throttle"));
    for (Row row : rows) {
      for (SimResult r : row.results()) {
        out.append(String.format(Locale.ROOT, "%-18s %-7s %6d %10.1f %9.2f %11s %5s %7d%%%n", r.workload(), r.rule(),
            r.rounds(), r.totalBytes() / 1048576.0, r.totalTime().toNanos() / 1e9,
            r.aborted() ? "aborted" : String.format(Locale.ROOT, "%.1f", r.downtime().toNanos() / 1e6),
            r.limitMet() ? "yes" : "no", r.finalThrottle()));
      }
    }
    return out.toString();
  }

}
