package dev.ferry.agent.criu;

import java.time.Duration;
import java.util.Optional;

/**
 * What a flat restore starts ahead, in {@code flat/} while the layer is built, on its own thread:
 * the lazy-pages daemon (with lazy pages; it must listen before any restore connects) and then,
 * when asked, {@code criu restore} held at its pre-restore script ({@link HeldRestore}). A daemon
 * that cannot start fails the whole start (the caller then starts both afresh on the built layer);
 * a held restore that cannot start is left out (the caller runs the restore itself).
 *
 * @param daemon the listening daemon, with lazy pages
 * @param restore the held restore, when asked for and started
 */
record RestoreAhead(Optional<LazyPages.Daemon> daemon, Optional<HeldRestore> restore) {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RestoreAhead.class);

  /** Where a restore started ahead waits for its release (see {@link HeldRestore}). */
  static final String HOLD_DIR = "restore-hold";

  /**
   * Starts on a new thread: the daemon in {@code flatDir} if {@code lazy}, then, given
   * {@code restoreArgs}, the held restore (its hold files in {@code workDir/restore-hold}).
   */
  static BackgroundWork<RestoreAhead> start(CriuCommand criu, java.nio.file.Path flatDir, java.nio.file.Path workDir, boolean lazy,
      Optional<java.util.List<String>> restoreArgs, Duration deadline) {
    return BackgroundWork.start("restore-ahead-" + workDir.getFileName(), new BackgroundWork.Work<RestoreAhead>() {
      @Override
      public RestoreAhead run() throws CriuFailure { // not a lambda on the downtime's path: see FlatTop.ParentSeen
        Optional<LazyPages.Daemon> daemon = Optional.empty();
        if (lazy) {
          try {
            daemon = Optional.of(LazyPages.Daemon.start(criu, flatDir, deadline));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "interrupted while starting criu lazy-pages", e);
          }
        }
        if (restoreArgs.isEmpty()) {
          return new RestoreAhead(daemon, Optional.empty());
        }
        try {
          return new RestoreAhead(daemon, Optional.of(HeldRestore.start(criu, flatDir, workDir.resolve(HOLD_DIR), restoreArgs.get(),
              deadline)));
        } catch (CriuFailure f) {
          log.warn("cannot start criu restore ahead in {}: {}", flatDir, f.describe());
          return new RestoreAhead(daemon, Optional.empty());
        }
      }
    });
  }

  /** Stops both, the restore first (it is connected to the daemon). Idempotent. */
  void close() {
    restore.ifPresent(HeldRestore::close);
    daemon.ifPresent(LazyPages.Daemon::close);
  }

  /** Stops what was started for a flat layer that is not used, off the caller's path. */
  static void abandon(BackgroundWork<RestoreAhead> ahead) {
    BackgroundWork.start("restore-ahead-abandon", () -> {
      try {
        ahead.await().close();
      } catch (InterruptedException e) {
        ahead.close(); // the start closes its daemon when interrupted
      }
      return null;
    });
  }
}
