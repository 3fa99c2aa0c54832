package dev.ferry.bench;

import dev.ferry.coordinator.policy.ConvergenceLimits;
import dev.ferry.coordinator.policy.sim.PolicyComparison;
import dev.ferry.coordinator.policy.sim.PolicyComparison.Row;
import java.util.List;

/**
 * {@code bin/ferry-bench policy}: Ferry's convergence policy against the P.Haul, LXD and QEMU stop
 * rules on simulated workloads (1 GiB, 500 MiB/s link, 25 ms per-round overhead, 100 ms fixed
 * switch-over cost, 300 ms limit). Prints the table, then one line of key=value figures.
 */
public final class PolicyBench {
  private PolicyBench() {}

  public static void main(String[] args) {
    ConvergenceLimits limits = ConvergenceLimits.defaults();
    List<Row> rows = PolicyComparison.run(PolicyComparison.standardWorkloads(), PolicyComparison.standardLink(), limits);
    System.out.print(PolicyComparison.table(rows, limits.downtimeLimit()));
    System.out.println(PolicyComparison.summarize(rows).line());
  }
}
