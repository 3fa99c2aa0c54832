package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.SoftDirtySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the right session for a pid: soft-dirty when the probe passed, else content hashes. */
public final class PrecopySessions {
  private static final Logger log = LoggerFactory.getLogger(PrecopySessions.class);

  private PrecopySessions() {}

  /**
   * @param probe the agent's soft-dirty probe result (probe once per agent, see
   *     {@link dev.ferry.agent.memory.SoftDirtyProbe})
   * @throws TrackingException UNSUPPORTED when soft-dirty is demanded but unavailable; the
   *     target checks of {@link dev.ferry.agent.memory.TargetProcess}
   */
  public static PrecopySession open(int pid, SoftDirtySupport probe, TrackerSettings settings) throws TrackingException {
    PrecopySession s;
    switch (settings.choice()) {
      case SOFT_DIRTY:
        if (!probe.available()) {
          throw new TrackingException(TrackingException.Reason.UNSUPPORTED, pid,
              "soft-dirty tracking requested but unavailable: " + probe.detail());
        }
        s = new SoftDirtySession(pid, settings, "soft-dirty requested; probe passed: " + probe.detail());
        break;
      case CONTENT_HASH:
        s = new ContentHashSession(pid, settings, "content-hash tracker requested");
        break;
      default:
        s = probe.available()
            ? new SoftDirtySession(pid, settings, "soft-dirty probe passed: " + probe.detail())
            : new ContentHashSession(pid, settings, "soft-dirty unavailable (" + probe.detail()
                + "): hashing every page each round; dry runs only, no CRIU incremental dump");
    }
    log.info("pid {}: tracker {} ({})", pid, s.kind(), s.reason());
    return s;
  }
}
