package dev.ferry.agent;

import dev.ferry.agent.destination.DestinationAgentService;
import dev.ferry.agent.source.Signals;
import dev.ferry.agent.source.SourceAgentService;
import dev.ferry.service.systemd.RollbackJournal;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles, at start, what a previous run of this agent left in its rollback journal (it was
 * killed: kill -9, the watchdog, OOM, or its stop deadline passed in a switch-over):
 * <ul>
 *   <li>a source in pre-copy: no final image existed, so nothing can have committed; if the
 *       process is still there and stopped (a freeze or throttle cut short), resume it;</li>
 *   <li>a source in its switch-over, or a restored copy on the destination: the coordinator's
 *       commit decides which copy runs. Leave the process as it is and adopt it, so that the
 *       coordinator's ResumeSource/KillSource or ResumeRestored/Discard act on it, or, if the
 *       coordinator has given up on it, the migration's record ({@link LeftoverSettler});</li>
 *   <li>a record whose process is gone (the same pid and start time no longer exist): drop it.</li>
 * </ul>
 */
final class JournalLeftovers {
  private static final Logger log = LoggerFactory.getLogger(JournalLeftovers.class);

  private JournalLeftovers() {}

  static void settle(RollbackJournal journal, SourceAgentService source, DestinationAgentService destination) {
    Signals signals = new Signals();
    for (RollbackJournal.Leftover left : journal.leftovers()) {
      String migration = left.detail("migration").orElse(left.id());
      String role = left.detail("role").orElse("?");
      String phase = left.detail("phase").orElse("?");
      long pid = left.process().pid();
      boolean discard = true;
      if (!left.processAlive()) {
        log.info("migration {}: the {} process {} a previous run recorded is gone", migration, role, pid);
      } else if (role.equals("source") && phase.equals("precopy")) {
        boolean stopped = Signals.state((int) pid) == 'T';
        if (stopped) {
          signals.send((int) pid, Signals.SIGCONT);
        }
        log.warn("migration {}: a previous run of this agent died in pre-copy; process {} {}", migration, pid,
            stopped ? "was left stopped and is resumed" : "runs on");
      } else if (role.equals("source")) {
        source.adopt(migration, left.process(), () -> discard(left));
        discard = false;
        log.warn("migration {}: a previous run died in the switch-over; source process {} stays as it is until the"
            + " coordinator (KillSource/ResumeSource) or the migration's record in ZooKeeper (committed: kill; rolled back:"
            + " resume) settles it", migration, pid);
      } else if (role.equals("destination")) {
        destination.adopt(migration, left.process(), () -> discard(left));
        discard = false;
        log.warn("migration {}: a previous run died after restoring process {}; it stays stopped until the coordinator"
            + " (ResumeRestored/Discard) or the migration's record in ZooKeeper (committed: resume; rolled back: kill)"
            + " settles it", migration, pid);
      } else {
        log.warn("migration {}: unknown rollback record (role {}, phase {}) for process {}: dropped", migration, role, phase, pid);
      }
      if (discard) {
        discard(left);
      }
    }
  }

  private static void discard(RollbackJournal.Leftover left) {
    try {
      left.discard();
    } catch (IOException e) {
      log.warn("could not remove the settled rollback record {}: {}", left.file(), e.toString());
    }
  }
}
