package dev.ferry.service.systemd;

import java.time.Duration;

/**
 * Undoes one unfinished piece of work when the daemon stops, e.g. a migration that has not
 * committed: resume the frozen source process, tell the peer to discard. Runs on its own thread;
 * {@code remaining} is how long it may take before the daemon exits without it (use it for RPC
 * deadlines). It should return rather than throw when nothing was left to undo.
 */
@FunctionalInterface
public interface RollbackHook {
    void rollback(Duration remaining) throws Exception;
}
