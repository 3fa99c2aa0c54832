package dev.ferry.coordinator.policy.sim;

import dev.ferry.coordinator.policy.Bandwidth;
import java.time.Duration;

/**
 * The simulated path between the agents and the cost of a round and of the switch-over.
 *
 * @param bandwidth the page stream's throughput
 * @param roundOverhead per round: freeze, pagemap scan, clear_refs, RPCs (the process keeps
 *     dirtying during it)
 * @param switchoverFixedCost CRIU dump of non-memory state, image copy, restore
 */
public record SimLink(Bandwidth bandwidth, Duration roundOverhead, Duration switchoverFixedCost) {
  double seconds(long bytes) {
    return bytes / bandwidth.bytesPerSecond();
  }
}
