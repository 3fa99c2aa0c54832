package dev.ferry.agent.criu;

import dev.ferry.proto.CapabilitySets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Capability sets from {@code /proc/PID/status} (CapEff, CapPrm, CapBnd: hex masks, bit n =
 * capability n). A `criu restore` run by this agent starts with the agent's own sets, and the
 * restorer can only grant a restored process permitted and effective capabilities within them
 * ("restorer.c: Unable to restore capabilities" otherwise, after the source was frozen): so the
 * agent publishes its own sets and the source reports the workload's, for the coordinator to
 * compare before anything is touched. Unreadable or missing lines are "unknown" (empty), never
 * an exception.
 */
public final class ProcCapabilities {
  private ProcCapabilities() {}

  /** This agent's own sets (what a CRIU it starts can grant), or empty if unreadable. */
  public static Optional<CapabilitySets> own() {
    return of(Path.of("/proc/self/status"));
  }

  /** The union of the sets of {@code pids} (a process tree: CRIU restores every one of them); empty if none could be read. */
  public static Optional<CapabilitySets> ofTree(Collection<Integer> pids) {
    CapabilitySets.Builder union = null;
    for (int pid : pids) {
      Optional<CapabilitySets> one = of(Path.of("/proc", Integer.toString(pid), "status"));
      if (one.isEmpty()) {
        continue; // exited meanwhile: nothing of it to restore
      }
      CapabilitySets s = one.get();
      union = union == null ? s.toBuilder() : union
          .setEffective(union.getEffective() | s.getEffective())
          .setPermitted(union.getPermitted() | s.getPermitted())
          .setBounding(union.getBounding() | s.getBounding());
    }
    return union == null ? Optional.empty() : Optional.of(union.build());
  }

  /** The sets in a status file, or empty if it cannot be read or lacks one of the three lines. */
  public static Optional<CapabilitySets> of(Path status) {
    try {
      return parse(Files.readAllLines(status));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Pure: the sets in the lines of a status file. */
  static Optional<CapabilitySets> parse(List<String> lines) {
    Long eff = null;
    Long prm = null;
    Long bnd = null;
    try {
      for (String line : lines) {
        if (line.startsWith("CapEff:")) {
          eff = Long.parseUnsignedLong(line.substring(7).trim(), 16);
        } else if (line.startsWith("CapPrm:")) {
          prm = Long.parseUnsignedLong(line.substring(7).trim(), 16);
        } else if (line.startsWith("CapBnd:")) {
          bnd = Long.parseUnsignedLong(line.substring(7).trim(), 16);
        }
      }
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    if (eff == null || prm == null || bnd == null) {
      return Optional.empty();
    }
    return Optional.of(CapabilitySets.newBuilder().setEffective(eff).setPermitted(prm).setBounding(bnd).build());
  }
}
