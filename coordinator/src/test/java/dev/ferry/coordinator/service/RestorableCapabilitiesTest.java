package dev.ferry.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.CapabilitySets;
import dev.ferry.proto.ProcessInfo;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Pure: which of a workload's capabilities the destination agent cannot restore. */
class RestorableCapabilitiesTest {
  private static final long ALL = (1L << 41) - 1; // cap_chown .. cap_checkpoint_restore
  private static final long NET_ADMIN = 1L << 12;
  private static final long SYS_ADMIN = 1L << 21;

  private static ProcessInfo workload(long permitted, long effective) {
    return ProcessInfo.newBuilder().setPid(4242)
        .setCapabilities(CapabilitySets.newBuilder().setPermitted(permitted).setEffective(effective).setBounding(ALL)).build();
  }

  private static AgentCapabilities destination(long bounding, long effective) {
    return AgentCapabilities.newBuilder().setHost("host2")
        .setOwnCapabilities(CapabilitySets.newBuilder().setBounding(bounding).setEffective(effective).setPermitted(effective)).build();
  }

  @Test
  void capabilitiesOutsideTheDestinationsBoundingOrEffectiveSetAreMissing() {
    assertEquals(List.of("cap_net_admin", "cap_sys_admin"),
        RestorableCapabilities.missing(workload(ALL, ALL), destination(ALL & ~SYS_ADMIN, ALL & ~NET_ADMIN)));
    assertEquals(List.of("cap_sys_admin"),
        RestorableCapabilities.missing(workload(SYS_ADMIN, 0), destination(ALL & ~SYS_ADMIN, ALL)), "permitted counts, not only effective");
    assertEquals(List.of(), RestorableCapabilities.missing(workload(ALL & ~SYS_ADMIN, 0), destination(ALL & ~SYS_ADMIN, ALL)));
    assertEquals(List.of(), RestorableCapabilities.missing(workload(0, 0), destination(0, 0)), "an unprivileged workload goes anywhere");
  }

  @Test
  void unreportedSetsAreNotJudged() {
    ProcessInfo noCaps = ProcessInfo.newBuilder().setPid(4242).build();
    AgentCapabilities oldAgent = AgentCapabilities.newBuilder().setHost("host2").build();
    assertEquals(List.of(), RestorableCapabilities.missing(noCaps, destination(0, 0)));
    assertEquals(List.of(), RestorableCapabilities.missing(workload(ALL, ALL), oldAgent));
  }

  @Test
  void theProblemNamesThePidTheCapabilitiesAndTheHost() {
    Optional<String> p = RestorableCapabilities.problem(workload(ALL, ALL), destination(ALL & ~SYS_ADMIN, ALL));
    assertTrue(p.orElseThrow().startsWith("pid 4242 holds cap_sys_admin, which the agent on host2 cannot restore"), p.get());
    assertEquals(Optional.empty(), RestorableCapabilities.problem(workload(0, 0), destination(ALL, ALL)));
    assertEquals(List.of("cap_chown", "cap_checkpoint_restore", "cap_45"), RestorableCapabilities.names(1L | 1L << 40 | 1L << 45));
  }
}
