package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.CapabilitySets;
import dev.ferry.testkit.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Capability sets read from a real child's /proc/PID/status, the child started with a narrowed bounding set. */
class ProcCapabilitiesTest {
  private static final long NET_RAW = 1L << 13;
  private static final long SYS_ADMIN = 1L << 21;
  private Process child;

  @AfterEach
  void kill() {
    if (child != null) {
      child.destroyForcibly();
    }
  }

  @Test
  void aChildStartedWithoutTwoCapabilitiesLacksThemInItsBoundingAndPermittedSets() throws Exception {
    CapabilitySets own = ProcCapabilities.own().orElseThrow();
    Assumptions.assumeTrue((own.getBounding() & own.getPermitted() & (NET_RAW | SYS_ADMIN)) == (NET_RAW | SYS_ADMIN),
        "the test JVM holds cap_net_raw and cap_sys_admin (runs as root)");
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) is installed");
    child = new ProcessBuilder("/usr/bin/setpriv", "--bounding-set", "-net_raw,-sys_admin", "--", "sleep", "600").start();
    Path status = Path.of("/proc", Long.toString(child.pid()), "status");
    // setpriv execs sleep in the same process: wait until the status is sleep's
    Await.until("sleep runs", () -> comm(child.pid()).equals("sleep"), Duration.ofSeconds(30));

    CapabilitySets sets = ProcCapabilities.of(status).orElseThrow();
    assertEquals(0, sets.getBounding() & (NET_RAW | SYS_ADMIN), Long.toHexString(sets.getBounding()));
    assertEquals(0, sets.getPermitted() & (NET_RAW | SYS_ADMIN), Long.toHexString(sets.getPermitted()));
    assertEquals(own.getBounding() & ~(NET_RAW | SYS_ADMIN), sets.getBounding(), "only those two dropped");

    CapabilitySets union = ProcCapabilities.ofTree(List.of((int) child.pid(), (int) ProcessHandle.current().pid())).orElseThrow();
    assertEquals(own.getPermitted(), union.getPermitted() & own.getPermitted(), "the tree holds what any of its processes holds");
    assertTrue((union.getBounding() & SYS_ADMIN) != 0);
  }

  @Test
  void anUnreadableOrIncompleteStatusIsUnknown() {
    assertEquals(Optional.empty(), ProcCapabilities.of(Path.of("/proc/no-such-pid/status")));
    assertEquals(Optional.empty(), ProcCapabilities.ofTree(List.of(Integer.MAX_VALUE - 3)));
    assertEquals(Optional.empty(), ProcCapabilities.parse(List.of("CapEff:\t0000000000000001", "CapPrm:\t0000000000000001")));
    assertEquals(Optional.empty(), ProcCapabilities.parse(List.of("CapEff:\tzz", "CapPrm:\t1", "CapBnd:\t1")));
    assertEquals(Optional.of(CapabilitySets.newBuilder().setEffective(1).setPermitted(3).setBounding(-1L).build()),
        ProcCapabilities.parse(List.of("Name:\tx", "CapInh:\t0", "CapPrm:\t0000000000000003", "CapEff:\t0000000000000001",
            "CapBnd:\tffffffffffffffff")));
  }

  private static String comm(long pid) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim();
    } catch (IOException e) {
      return "";
    }
  }
}
