package dev.ferry.agent;

import dev.ferry.agent.destination.DestinationAgentService;
import dev.ferry.agent.recovery.LeftoverVerdict;
import dev.ferry.agent.recovery.LeftoverVerdict.Action;
import dev.ferry.agent.recovery.LeftoverVerdict.Role;
import dev.ferry.agent.source.SourceAgentService;
import dev.ferry.proto.Phase;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles the stopped copies an earlier run of this agent left in a switch-over (adopted by
 * {@link JournalLeftovers} or found as orphaned restores) from each migration's record in
 * ZooKeeper, by {@link LeftoverVerdict}: the coordinator's own calls (ResumeRestored/Discard,
 * KillSource/ResumeSource) may settle them first, but it gives up a rollback step after a few
 * attempts while this agent was down, and then nobody else would. One pass per call of
 * {@link #pass}; the agent repeats it until nothing is left. Confined to the caller's thread
 * (it blocks on ZooKeeper: never an event thread).
 */
final class LeftoverSettler {
  private static final Logger log = LoggerFactory.getLogger(LeftoverSettler.class);

  /** How often the records are read again while a migration is still before its commit. */
  static final Duration INTERVAL = Duration.ofSeconds(2);

  /** Reads a migration's recorded phase (empty: no record). */
  interface Records {
    Optional<Phase> phase(String migrationId) throws Exception;
  }

  private final Records records;
  private final SourceAgentService source;
  private final DestinationAgentService destination;
  /** Last verdict logged per (role, migration): a waiting one is not logged every pass. */
  private final Map<String, Action> announced = new HashMap<>();

  LeftoverSettler(Records records, SourceAgentService source, DestinationAgentService destination) {
    this.records = records;
    this.source = source;
    this.destination = destination;
  }

  /** One pass over every unsettled leftover; returns how many are still waiting (or kept). */
  int pass() {
    int open = 0;
    for (String id : source.adoptedMigrations()) {
      open += settle(Role.SOURCE, id) ? 0 : 1;
    }
    for (String id : destination.adoptedMigrations()) {
      open += settle(Role.DESTINATION, id) ? 0 : 1;
    }
    return open;
  }

  private boolean settle(Role role, String id) {
    LeftoverVerdict verdict;
    try {
      verdict = LeftoverVerdict.decide(role, records.phase(id));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      log.warn("migration {}: cannot read its record in ZooKeeper ({}); its {} copy stays stopped for now", id, e.toString(),
          role.name().toLowerCase());
      return false;
    }
    if (verdict.action() == Action.WAIT || verdict.action() == Action.KEEP) {
      if (announced.put(role + "/" + id, verdict.action()) != verdict.action()) {
        log.warn("migration {}: the stopped {} copy a previous run left stays stopped: {}", id, role.name().toLowerCase(),
            verdict.reason());
      }
      return false;
    }
    announced.remove(role + "/" + id);
    // false: the coordinator's call settled it meanwhile, which is as good
    if (role == Role.SOURCE) {
      source.settleAdopted(id, verdict);
    } else {
      destination.settleAdopted(id, verdict);
    }
    return true;
  }
}
