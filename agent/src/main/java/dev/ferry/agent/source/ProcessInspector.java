package dev.ferry.agent.source;

import dev.ferry.agent.criu.ProcCapabilities;
import dev.ferry.agent.memory.ProcessInspection;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.proto.ProcessInfo;
import java.util.List;

/**
 * Answers InspectProcess: whether a pid can be migrated from here (the engine's own typed checks,
 * {@link dev.ferry.agent.memory.TargetProcess}), what a full first round would copy (counted from
 * the pagemap by the engine's own page rules, {@link ProcessInspection}: present or swapped pages of
 * the areas a round copies, not the areas' virtual size), and the capabilities the tree holds (the
 * coordinator checks the destination can restore them).
 *
 * <p>Runs on the gRPC call's thread; reads /proc only (no lock, no callback).
 */
final class ProcessInspector {

  ProcessInfo inspect(int pid) throws TrackingException {
    ProcessInspection inspection;
    try {
      inspection = ProcessInspection.of(pid);
    } catch (RuntimeException e) {
      // an unparsable /proc line must answer a described error, not UNKNOWN
      throw new TrackingException(TrackingException.Reason.IO_ERROR, pid, "reading /proc/" + pid + ": " + e, e);
    }
    List<Integer> tree = inspection.tree();
    ProcessInfo.Builder info = ProcessInfo.newBuilder()
        .setPid(pid)
        .setCommand(inspection.command())
        .setState(String.valueOf(inspection.state()))
        .setThreads(inspection.threads())
        .setCopyableBytes(inspection.copyableBytes())
        .setAreas(inspection.areas())
        .setThpAreas(inspection.thpAreas())
        .addAllTree(tree);
    ProcCapabilities.ofTree(tree).ifPresent(info::setCapabilities);
    return info.build();
  }
}
