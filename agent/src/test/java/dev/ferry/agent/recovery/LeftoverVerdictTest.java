package dev.ferry.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ferry.agent.recovery.LeftoverVerdict.Action;
import dev.ferry.agent.recovery.LeftoverVerdict.Role;
import dev.ferry.proto.Phase;
import java.util.EnumSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LeftoverVerdictTest {

  private static Action of(Role role, Phase phase) {
    return LeftoverVerdict.decide(role, Optional.of(phase)).action();
  }

  @Test
  void committedRollsForwardResumeTheRestoredCopyKillTheSource() {
    for (Phase p : EnumSet.of(Phase.COMMITTED, Phase.DONE)) {
      assertEquals(Action.RESUME, of(Role.DESTINATION, p), p.name());
      assertEquals(Action.KILL, of(Role.SOURCE, p), p.name());
    }
  }

  @Test
  void rolledBackKeepsTheSourceKillTheRestoredCopyResumeTheSource() {
    for (Phase p : EnumSet.of(Phase.ROLLING_BACK, Phase.FAILED, Phase.CANCELLED)) {
      assertEquals(Action.KILL, of(Role.DESTINATION, p), p.name());
      assertEquals(Action.RESUME, of(Role.SOURCE, p), p.name());
    }
  }

  @Test
  void beforeTheCommitTheCoordinatorDecidesWait() {
    for (Phase p : EnumSet.of(Phase.PENDING, Phase.PRECOPY, Phase.FREEZING, Phase.FINAL_COPY, Phase.RESTORING)) {
      assertEquals(Action.WAIT, of(Role.DESTINATION, p), p.name());
      assertEquals(Action.WAIT, of(Role.SOURCE, p), p.name());
    }
  }

  @Test
  void withoutARecordOrWithAnUnknownPhaseNothingIsSignalled() {
    for (Role r : Role.values()) {
      assertEquals(Action.KEEP, LeftoverVerdict.decide(r, Optional.empty()).action());
      assertEquals(Action.KEEP, of(r, Phase.PHASE_UNSPECIFIED));
    }
  }

  /** The invariant over every phase: never both copies resumed; a copy is resumed only if the other is killed. */
  @Test
  void neverTwoRunningCopiesInAnyPhase() {
    for (Phase p : Phase.values()) {
      if (p == Phase.UNRECOGNIZED) {
        continue;
      }
      Action source = of(Role.SOURCE, p);
      Action destination = of(Role.DESTINATION, p);
      if (source == Action.RESUME || destination == Action.RESUME) {
        assertNotEquals(source, destination, p.name());
        assertEquals(Action.KILL, source == Action.RESUME ? destination : source, p.name());
      }
    }
  }
}
