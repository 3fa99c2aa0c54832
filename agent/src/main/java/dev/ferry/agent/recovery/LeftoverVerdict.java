package dev.ferry.agent.recovery;

import dev.ferry.proto.Phase;
import java.util.Optional;

/**
 * What a restarted agent does with a stopped copy an earlier run of it left behind in a
 * switch-over (the source's dumped copy, or the destination's restored copy), decided from the
 * migration's state record in ZooKeeper alone. Pure: no I/O, no clock.
 *
 * <p>The invariant it keeps: at no instant do two copies run. The destination's copy may run only
 * once COMMITTED is recorded; the source's only when the record says the commit never happened
 * (ROLLING_BACK, FAILED, CANCELLED: a migration reaches those only from before the commit point).
 * While the record is before the commit point the coordinator still decides (it rolls back once
 * it notices the agent's call failed): wait. Without a record nothing is known: keep the copy
 * stopped and say so (records are never deleted, so this means another ZooKeeper or root).
 */
public record LeftoverVerdict(Action action, String reason) {

  /** What to do with the stopped copy. */
  public enum Action {
    /** SIGCONT it: it is the copy that owns the process now. */
    RESUME,
    /** SIGKILL it: the other copy owns the process. */
    KILL,
    /** Leave it stopped and ask again later: the coordinator has not decided yet. */
    WAIT,
    /** Leave it stopped for good and tell the operator: nothing says which copy owns the process. */
    KEEP
  }

  /** Which side of the migration the leftover copy is. */
  public enum Role { SOURCE, DESTINATION }

  /**
   * @param role the side the stopped copy belongs to
   * @param phase the migration's recorded phase, empty if no record exists
   */
  public static LeftoverVerdict decide(Role role, Optional<Phase> phase) {
    if (phase.isEmpty()) {
      return new LeftoverVerdict(Action.KEEP, "no record of the migration in ZooKeeper: which copy owns the process is"
          + " unknown; the copy stays stopped (check the other host, then resume or kill it by hand)");
    }
    Phase p = phase.get();
    switch (p) {
      case COMMITTED:
      case DONE:
        return role == Role.DESTINATION
            ? new LeftoverVerdict(Action.RESUME, "the migration is " + p + ": the restored copy owns the process (roll forward)")
            : new LeftoverVerdict(Action.KILL, "the migration is " + p + ": the destination owns the process (roll forward)");
      case ROLLING_BACK:
      case FAILED:
      case CANCELLED:
        return role == Role.DESTINATION
            ? new LeftoverVerdict(Action.KILL, "the migration is " + p + " before its commit: the source keeps the process")
            : new LeftoverVerdict(Action.RESUME, "the migration is " + p + " before its commit: the source keeps the process");
      case PENDING:
      case PRECOPY:
      case FREEZING:
      case FINAL_COPY:
      case RESTORING:
        return new LeftoverVerdict(Action.WAIT, "the migration is still " + p + " (before its commit): the coordinator decides");
      default:
        return new LeftoverVerdict(Action.KEEP, "the migration's record has an unknown phase " + p
            + ": the copy stays stopped");
    }
  }
}
