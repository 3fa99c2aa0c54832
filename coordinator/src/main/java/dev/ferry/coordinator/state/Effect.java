package dev.ferry.coordinator.state;

/**
 * An action the edge performs for the state machine: one agent call each. Every awaited effect
 * answers with exactly one {@link Signal} (its success, or {@link Signal.StepFailed}).
 */
public sealed interface Effect {
  /** The step's name in messages ("checkpoint failed: ..."); also matches a failure to its effect. */
  default String step() {
    String n = getClass().getSimpleName();
    return n.replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT);
  }

  /** Destination: open the page store and arm the stream token. */
  record PrepareReceive() implements Effect {}

  /** Source: start tracking the pid and connect to the destination's page stream. */
  record StartTracking() implements Effect {}

  /** Source: run pre-copy round {@code round}. */
  record RunRound(int round) implements Effect {
    @Override
    public String step() {
      return "round " + round;
    }
  }

  /** Source: slow the process by {@code percent} (0 ends throttling). */
  record Throttle(int percent) implements Effect {}

  /** Source: freeze, CRIU dump against the pre-copied parent, send the final images. */
  record Checkpoint(int finalRound) implements Effect {}

  /** Destination: confirm its store holds the final images. */
  record ConfirmImages() implements Effect {}

  /** Destination: CRIU restore, the restored process stays stopped. */
  record Restore() implements Effect {}

  /** Destination, after the commit: resume the restored process. */
  record ResumeRestored() implements Effect {}

  /** Source, after the commit: kill the stopped copy. */
  record KillSource() implements Effect {}

  /** Source, rollback: resume the process and end throttling. */
  record ResumeSource() implements Effect {}

  /** Destination, rollback: kill a restored copy if any and delete the store. */
  record Discard() implements Effect {}

  /** Source: forget the migration (cleanup, best effort). */
  record StopTracking() implements Effect {}
}
