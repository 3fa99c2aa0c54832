package dev.ferry.coordinator.service;

import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.ProcessInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Pure: whether the destination agent can restore a workload's capabilities. CRIU's restorer
 * gives each restored process its dumped permitted and effective sets with capset(2), which
 * cannot grant what the restoring CRIU itself lacks; CRIU runs with the agent's sets, so what
 * the destination can restore is its agent's bounding set and effective set together. A
 * workload holding more fails in `criu restore` after the source was frozen and dumped (the
 * migration then rolls back); this check refuses it up front instead. Sets that were not
 * reported (an agent or pid before this check existed) are not judged.
 */
final class RestorableCapabilities {
  /** Linux capability names by number (capability.h), as an operator reads them in capsh/getpcaps. */
  private static final String[] NAMES = {
    "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
    "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
    "cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module",
    "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot",
    "cap_sys_nice", "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
    "cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog",
    "cap_wake_alarm", "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
  };

  private RestorableCapabilities() {}

  /** The capabilities {@code workload} holds that the agent of {@code destination} cannot restore (empty: none, or not known). */
  static List<String> missing(ProcessInfo workload, AgentCapabilities destination) {
    if (!workload.hasCapabilities() || !destination.hasOwnCapabilities()) {
      return List.of();
    }
    long held = workload.getCapabilities().getPermitted() | workload.getCapabilities().getEffective();
    long restorable = destination.getOwnCapabilities().getBounding() & destination.getOwnCapabilities().getEffective();
    return names(held & ~restorable);
  }

  /** The refusal for {@code missing}, naming the pid, the capabilities and the host; empty if nothing is missing. */
  static Optional<String> problem(ProcessInfo workload, AgentCapabilities destination) {
    List<String> missing = missing(workload, destination);
    if (missing.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of("pid " + workload.getPid() + " holds " + String.join(", ", missing) + ", which the agent on "
        + destination.getHost() + " cannot restore (not in its bounding and effective capability sets: CRIU's"
        + " restore would fail after the freeze); widen the destination agent's CapabilityBoundingSet or drop them"
        + " from the workload");
  }

  static List<String> names(long mask) {
    List<String> out = new ArrayList<>();
    for (int bit = 0; bit < 64; bit++) {
      if ((mask & (1L << bit)) != 0) {
        out.add(bit < NAMES.length ? NAMES[bit] : "cap_" + bit);
      }
    }
    return out;
  }
}
