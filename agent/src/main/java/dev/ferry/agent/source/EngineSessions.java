package dev.ferry.agent.source;

import dev.ferry.agent.memory.SoftDirtySupport;
import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.PrecopySessions;
import dev.ferry.agent.tracking.TrackerSettings;
import dev.ferry.agent.tracking.TrackingException;

/**
 * The engine's trackers behind the agent's seam: soft-dirty when this host's probe passed,
 * else (dry runs only) the content-hash tracker. A real migration without soft-dirty is refused
 * up front, since CRIU's incremental final dump needs the soft-dirty bits.
 */
public final class EngineSessions implements PrecopySessionFactory {
  private final SoftDirtySupport probe;
  private final TrackerSettings settings;

  public EngineSessions(SoftDirtySupport probe, TrackerSettings settings) {
    this.probe = probe;
    this.settings = settings;
  }

  @Override
  public PrecopySession open(int pid, boolean dryRun) throws TrackingException {
    if (!dryRun && !probe.available()) {
      throw new TrackingException(TrackingException.Reason.UNSUPPORTED, pid, "a real migration of pid " + pid
          + " needs soft-dirty tracking, which this host lacks (" + probe.detail() + "); use --dry-run to rehearse");
    }
    return PrecopySessions.open(pid, probe, settings);
  }
}
