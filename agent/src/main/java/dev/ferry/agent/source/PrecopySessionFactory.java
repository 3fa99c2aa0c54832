package dev.ferry.agent.source;

import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.TrackingException;

/**
 * Seam to the page-tracking engine: opens a pre-copy session for a process tree. The engine's
 * implementation picks soft-dirty or the content-hash tracker ({@code dryRun} allows the latter).
 */
@FunctionalInterface
public interface PrecopySessionFactory {
  PrecopySession open(int pid, boolean dryRun) throws TrackingException, InterruptedException;

  /** The factory of an agent built without the engine: every StartTracking fails clearly. */
  PrecopySessionFactory NONE = (pid, dryRun) -> {
    throw new TrackingException(TrackingException.Reason.UNSUPPORTED, pid,
        "this agent was built without a page-tracking engine");
  };
}
