package dev.ferry.cli.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.Agent;
import dev.ferry.agent.criu.ProcCapabilities;
import dev.ferry.cli.CliRun;
import dev.ferry.cli.ExitCode;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.proto.CapabilitySets;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration whose workload holds capabilities the destination agent cannot restore is refused
 * up front, naming them and the host, and the workload is never touched. The destination agent
 * is its own JVM started by setpriv without cap_sys_admin and cap_net_admin in its bounding set
 * (what a systemd unit's CapabilityBoundingSet does); the workload is a real root child holding
 * every capability of this JVM.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CapabilityPrecheckTest {
  private static final long NET_ADMIN = 1L << 12;
  private static final long SYS_ADMIN = 1L << 21;

  @TempDir
  Path dir;

  @Test
  void aWorkloadHoldingCapabilitiesTheDestinationLacksIsRefusedBeforeItIsTouched() throws Exception {
    CapabilitySets own = ProcCapabilities.own().orElseThrow();
    Assumptions.assumeTrue((own.getPermitted() & (NET_ADMIN | SYS_ADMIN)) == (NET_ADMIN | SYS_ADMIN),
        "this JVM (and so its workload) holds cap_net_admin and cap_sys_admin");
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) is installed");
    try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
         Agent host1 = LoopbackParts.agent("host1", dir, zk, LoopbackParts.PLAINTEXT);
         AgentProcess host2 = AgentProcess.start("host2", 0, dir.resolve("host2"), zk.connectString(), null,
             List.of("/usr/bin/setpriv", "--bounding-set", "-sys_admin,-net_admin", "--"));
         Coordinator coordinator = LoopbackParts.coordinator(zk, LoopbackParts.PLAINTEXT);
         Workload w = Workload.memtouch().sizeMib(8).ratePagesPerSecond(100).start()) {
      w.awaitOkLines(1, Duration.ofSeconds(30));
      try {
        LoopbackParts.awaitLeaderListingBoth(coordinator, Duration.ofSeconds(120), "--insecure");
      } catch (AssertionError notListed) {
        throw new AssertionError(notListed.getMessage() + "\nhost2's log:\n" + host2.log(), notListed);
      }

      CliRun r = CliRun.of(Long.toString(w.pid()), "--from", "host1", "--to", "host2", "--insecure",
          "--coordinator", coordinator.address());
      assertEquals(ExitCode.REFUSED, r.code(), r.toString());
      assertTrue(r.err().contains("pid " + w.pid() + " holds cap_net_admin, cap_sys_admin, which the agent on host2 cannot restore"),
          r.err());

      long okBefore = w.lastOk().orElseThrow().counter();
      assertNotEquals('T', E2eSteps.state(w.pid()), "never stopped");
      w.awaitOkBeyond(okBefore, Duration.ofSeconds(30));
      CliRun list = CliRun.of("list", "--insecure", "--coordinator", coordinator.address());
      assertTrue(list.out().lines().noneMatch(l -> l.startsWith("m-")), "no migration was recorded:\n" + list.out());
      w.assertNoCorruption();
    }
  }
}
