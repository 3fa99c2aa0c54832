package dev.ferry.agent.source;

import dev.ferry.proto.CheckpointReply;
import dev.ferry.proto.CheckpointRequest;
import io.grpc.Status;
import io.grpc.StatusException;
import java.util.Optional;

/**
 * Seam for the switch-over (dev.ferry.agent.criu): stop the process, write the CRIU parent image
 * dir from {@link SourceMigration#ledger()} (see ParentImages.writeFromLedger), run
 * {@code criu dump --track-mem --prev-images-dir}, push the final images with
 * {@link SourceMigration#pushImages}. Called on a round thread (may block), with the
 * migration's round lock held so no pre-copy round runs at the same time.
 */
@FunctionalInterface
public interface CheckpointHandler {
  CheckpointReply checkpoint(SourceMigration migration, CheckpointRequest request) throws StatusException, InterruptedException;

  /**
   * Rollback: resumes the process tree this handler stopped for the migration (its dumped
   * identity, safe against pid reuse). Empty when it stopped nothing for it (no checkpoint ran,
   * or it was resumed or killed already); otherwise whether anything was stopped. Idempotent.
   */
  default Optional<Boolean> resume(String migrationId) {
    return Optional.empty();
  }

  /** After the commit: kills the stopped tree dumped for the migration. Empty as for {@link #resume}. */
  default Optional<Boolean> kill(String migrationId) {
    return Optional.empty();
  }

  /**
   * A pre-copy round of the migration completed: the handler may get the switch-over ready (the
   * CRIU handler starts its dump ahead, held before it touches the process). Called on the round
   * thread with the round permit held; must not block for long; failures are the handler's (logged).
   */
  default void roundDone(SourceMigration migration) {}

  /**
   * The migration ended here without a checkpoint in flight (tracking stopped, rolled back, the
   * agent closing): drop what {@link #roundDone} prepared. Idempotent; never blocks for long.
   */
  default void migrationEnded(String migrationId) {}

  /** Until the switch-over lands: a clear UNIMPLEMENTED. */
  CheckpointHandler NONE = (migration, request) -> {
    throw Status.UNIMPLEMENTED.withDescription("Checkpoint (CRIU switch-over) is not available in this agent build; "
        + "pre-copy rounds and --dry-run work").asException();
  };
}
