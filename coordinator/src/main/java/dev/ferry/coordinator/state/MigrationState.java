package dev.ferry.coordinator.state;

import dev.ferry.proto.Phase;

/**
 * The state of one migration, as data. Every state names its phase; states up to
 * {@link Restoring} are before the commit (any failure rolls back), {@link Committed} and after
 * roll forward.
 */
public sealed interface MigrationState {
  Phase phase();

  default boolean terminal() {
    return false;
  }

  /** Before the commit point: a failure or a cancel rolls back. */
  default boolean beforeCommit() {
    return false;
  }

  /** Created; waiting for the destination to prepare, then for the source to start tracking. */
  record Pending(PendingStep step) implements MigrationState {
    public Phase phase() {
      return Phase.PENDING;
    }

    public boolean beforeCommit() {
      return true;
    }
  }

  enum PendingStep { PREPARE_RECEIVE, START_TRACKING }

  /**
   * Pre-copy; {@code throttling}: a throttle change is in flight before the next round;
   * {@code recovering}: a new leader asked for the next recorded round, which the old leader may
   * already have run on the agent without recording it.
   */
  record Precopy(Progress progress, boolean throttling, boolean recovering) implements MigrationState {
    public Precopy(Progress progress, boolean throttling) {
      this(progress, throttling, false);
    }

    public Phase phase() {
      return Phase.PRECOPY;
    }

    public boolean beforeCommit() {
      return true;
    }
  }

  /** The source is checkpointing (process stopped, CRIU dump, final images sent). */
  record Freezing(Progress progress) implements MigrationState {
    public Phase phase() {
      return Phase.FREEZING;
    }

    public boolean beforeCommit() {
      return true;
    }
  }

  /** Confirming the destination holds the final images. */
  record FinalCopy(Progress progress, CheckpointResult checkpoint) implements MigrationState {
    public Phase phase() {
      return Phase.FINAL_COPY;
    }

    public boolean beforeCommit() {
      return true;
    }
  }

  /** The destination restores; the restored copy stays stopped. */
  record Restoring(Progress progress, CheckpointResult checkpoint) implements MigrationState {
    public Phase phase() {
      return Phase.RESTORING;
    }

    public boolean beforeCommit() {
      return true;
    }
  }

  /** Recorded by compare-and-set before anything runs on the destination: the commit point. */
  record Committed(Progress progress, CheckpointResult checkpoint, int restoredPid, CommitStep step,
      long resumedAtUnixMillis, int attempt) implements MigrationState {
    public Phase phase() {
      return Phase.COMMITTED;
    }
  }

  enum CommitStep { RESUME_RESTORED, KILL_SOURCE }

  /** Undoing a migration that did not reach the commit; ends FAILED or CANCELLED. */
  record RollingBack(Phase outcome, String reason, Progress progress, RollbackStep step, int attempt)
      implements MigrationState {
    public Phase phase() {
      return Phase.ROLLING_BACK;
    }
  }

  enum RollbackStep { RESUME_SOURCE, DISCARD }

  record Done(Outcome outcome, String reason) implements MigrationState {
    public Phase phase() {
      return Phase.DONE;
    }

    public boolean terminal() {
      return true;
    }
  }

  record Failed(Outcome outcome, String reason) implements MigrationState {
    public Phase phase() {
      return Phase.FAILED;
    }

    public boolean terminal() {
      return true;
    }
  }

  record Cancelled(Outcome outcome, String reason) implements MigrationState {
    public Phase phase() {
      return Phase.CANCELLED;
    }

    public boolean terminal() {
      return true;
    }
  }
}
