package dev.ferry.coordinator.state;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The result of {@link MigrationMachine#transition}: the next state, the one awaited effect (if
 * any; run after {@code delay}, once the next state is recorded), best-effort cleanup effects
 * whose failures are only logged, and the journal lines.
 */
public record Transition(MigrationState next, Optional<Effect> effect, Duration delay, List<Effect> cleanup,
    List<Notice> notices) {

  public Transition {
    cleanup = List.copyOf(cleanup);
    notices = List.copyOf(notices);
  }

  static Transition to(MigrationState next, Effect effect, Notice... notices) {
    return new Transition(next, Optional.of(effect), Duration.ZERO, List.of(), List.of(notices));
  }

  static Transition finish(MigrationState next, List<Effect> cleanup, Notice... notices) {
    return new Transition(next, Optional.empty(), Duration.ZERO, cleanup, List.of(notices));
  }

  static Transition retry(MigrationState next, Effect effect, Duration delay) {
    return new Transition(next, Optional.of(effect), delay, List.of(), List.of());
  }

  /** Nothing changes: a stale or irrelevant signal. */
  static Transition stay(MigrationState same) {
    return new Transition(same, Optional.empty(), Duration.ZERO, List.of(), List.of());
  }

  public boolean changed(MigrationState before) {
    return !next.equals(before) || effect.isPresent() || !notices.isEmpty();
  }
}
