package dev.ferry.coordinator.state;

import dev.ferry.coordinator.policy.Decision;
import dev.ferry.coordinator.policy.RoundSample;
import dev.ferry.proto.Phase;

/** A line of the migration's journal, published to watchers and recorded with the state. */
public sealed interface Notice {
  record Round(RoundSample sample, Decision decision) implements Notice {}

  record PhaseChanged(Phase phase, String detail) implements Notice {}
}
