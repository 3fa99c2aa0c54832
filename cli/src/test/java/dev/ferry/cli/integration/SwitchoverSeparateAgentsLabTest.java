package dev.ferry.cli.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.cli.ExitCode;
import dev.ferry.cli.integration.E2eSteps.Run;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.coordinator.service.GrpcEndpoints;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.service.tls.TransportSecurity;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.testkit.Await;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.LabEnvironment;
import dev.ferry.testkit.LabNetwork;
import dev.ferry.testkit.MemtouchLine;
import dev.ferry.testkit.RequiresCriu;
import dev.ferry.testkit.RequiresNetworkNamespaces;
import dev.ferry.testkit.RequiresSoftDirty;
import dev.ferry.testkit.Workload;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code migrate <pid> --to host2} end to end with the agents as SEPARATE processes, as they run
 * in production: each agent its own JVM ({@code AgentMain}, what bin/ferry-agent runs) with its
 * own data dir, port, ZooKeeper session and rollback journal; the embedded ZooKeeper, the
 * coordinator and the CLI's entry point in this JVM. host1 and host2 start together (two JVMs on
 * the VM's two CPUs), host3 only for the last case; each from ferry.jar and its CDS archive (see
 * {@link AgentProcess}: from the test class path an agent took minutes to start in the VM).
 *
 * <p>Each host is its own network namespace ({@link LabNetwork}): agent hostN serves on and
 * advertises 10.77.N.2, joined by a veth pair to this JVM's namespace (the hub: ZooKeeper and the
 * coordinator bind 10.77.0.1 there, the CLI runs there), which routes between the veths. So the
 * coordinator's calls, the agents' ZooKeeper sessions, the page stream and the image transfer
 * (host1 → hub → host2) all cross real veth links; nothing between hosts goes over loopback. The
 * workload starts in host1's namespace (as the agent: {@code nsenter --net}, same mount
 * namespace); CRIU, run by host2's agent, restores it into host2's namespace (a namespace the
 * dumped task shared with CRIU is not in the image: the restored task gets the restorer's), which
 * the first case checks. All on one kernel: CRIU restores the workload's pid namespace there (see
 * docs/SWITCHOVER.md).
 *
 * <p>Cases: the migration itself (rounds, downtime, one copy, the destination's store removed after
 * the commit); CRIU cannot dump (the pid is ptrace-attached) → source resumes, FAILED with CRIU's
 * reason; the destination agent KILLED (kill -9) during its restore → rollback, source resumes,
 * and the restored copy CRIU finished after the agent died (stopped, unknown to anyone) is killed
 * by the restarted agent from the migration's record.
 */
@RequiresCriu
@RequiresSoftDirty
@RequiresNetworkNamespaces
@Timeout(value = 18, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SwitchoverSeparateAgentsLabTest {
  /** Port every agent serves on, in its own namespace. */
  static final int AGENT_PORT = 7001;
  @TempDir
  static Path dir;
  static LabNetwork net;
  static EmbeddedZooKeeper zk;
  /** ZooKeeper at the hub's address, as agents and the test reach it. */
  static String zkConnect;
  static CuratorFramework zkClient;
  static Coordinator coordinator;
  static String at;
  static AgentProcess host1;
  static AgentProcess host2;
  static AgentProcess host3;
  /** host3's criu: `restore` signals {@link #restoreBegun}, waits for {@link #release}, then runs the real one. */
  static Path criuWrapperDir;
  static Path restoreBegun;
  static Path release;
  static Path restoreEnded;

  @BeforeAll
  static void cluster() throws Exception {
    long t0 = System.nanoTime();
    net = LabNetwork.create("ferry", List.of("host1", "host2", "host3"));
    System.out.println("E2E-SEP network: " + net);
    Properties hubOnly = new Properties();
    hubOnly.setProperty("clientPortAddress", LabNetwork.HUB);
    zk = EmbeddedZooKeeper.start(LabEnvironment.scaled(Duration.ofSeconds(30)), hubOnly);
    zkConnect = LabNetwork.HUB + ":" + zk.port();
    criuWrapperDir = Files.createDirectories(dir.resolve("host3-bin"));
    restoreBegun = dir.resolve("host3-restore-begun");
    release = dir.resolve("host3-restore-release");
    restoreEnded = dir.resolve("host3-restore-ended");
    Path wrapper = criuWrapperDir.resolve("criu");
    Files.writeString(wrapper, "#!/bin/sh\n"
        + "if [ \"$1\" = restore ]; then\n"
        + "  : > '" + restoreBegun + "'\n"
        + "  while [ ! -e '" + release + "' ]; do sleep 0.2; done\n"
        + "  '" + realCriu() + "' \"$@\"; rc=$?\n"
        + "  : > '" + restoreEnded + "'\n"
        + "  exit $rc\n"
        + "fi\n"
        + "exec '" + realCriu() + "' \"$@\"\n");
    assertTrue(wrapper.toFile().setExecutable(true));
    // the agents' JVMs start together: under emulation each takes a minute or more (host3, only
    // for the last case, starts there: three JVM starts at once starved the VM's ZooKeeper)
    host1 = agent("host1", null);
    host2 = agent("host2", null);
    zkClient = CuratorFrameworkFactory.newClient(zkConnect, new RetryOneTime(500));
    zkClient.start();
    coordinator = new Coordinator(new Coordinator.Config(new InetSocketAddress(LabNetwork.HUB, 0), zkConnect,
        new ZkLayout("/ferry"), Duration.ofSeconds(15), GrpcEndpoints.fromEnvironment(TransportSecurity.insecure("lab e2e coordinator")))).start();
    at = coordinator.address();
    Await.until("leadership", coordinator::isLeader, Duration.ofSeconds(60));
    for (AgentProcess a : List.of(host1, host2)) {
      String advertised = awaitRegistered(a);
      System.out.printf("E2E-SEP agent %s registered %d ms after the cluster's start, advertising %s from %s%n", a.name(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), advertised, LabNetwork.netnsOf(a.pid()).orElse("?"));
    }
    System.out.printf("E2E-SEP cluster up in %d ms: agents host1/host2 as processes %d/%d (%s), coordinator %s%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), host1.pid(), host2.pid(), String.join(" ", AgentProcess.classes()), at);
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {coordinator, host1, host2, host3, zkClient, zk}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        System.err.println("closing " + c + ": " + e);
      }
    }
    E2eSteps.killStoppedCopies(dir);
    keepAgentLogs();
    // after every process of the hosts is gone; a leftover fails the class (the next run would trip on it)
    if (net != null) {
      net.close();
      System.out.println("E2E-SEP lab network removed, nothing left: " + net.leftovers().isEmpty());
    }
  }

  /** Agent {@code name} in its host's network namespace, serving on and advertising its address there. */
  private static AgentProcess agent(String name, Path pathPrefix) throws IOException {
    LabNetwork.Host h = net.host(name);
    return AgentProcess.start(name, h.address(), AGENT_PORT, dir.resolve(name), zkConnect, pathPrefix, h.enter());
  }

  /** The workload as a process of host1: in its network namespace. */
  private static Workload workloadOnHost1(String name, long mib, long rate) {
    Workload w = E2eSteps.workload(dir, name, mib, rate, net.host("host1").enter());
    assertEquals(net.host("host1").netnsId(), LabNetwork.netnsOf(w.pid()).orElse("gone"), "the workload runs in host1's netns");
    return w;
  }

  /**
   * The agents' logs (each starts with its JVM's command line) outlive the VM's /tmp: copied to
   * {@code <ferry.repo.root>/target/lab/separate-agents/} (the checkout, shared with the host).
   */
  private static void keepAgentLogs() {
    String root = System.getProperty("ferry.repo.root");
    if (root == null || root.isBlank() || dir == null) {
      return;
    }
    Path kept = Path.of(root, "target", "lab", "separate-agents");
    try (var logs = Files.list(dir)) {
      Files.createDirectories(kept);
      for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
        Files.copy(log, kept.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      System.out.println("E2E-SEP agents' logs kept in " + kept);
    } catch (IOException e) {
      System.err.println("could not keep the agents' logs in " + kept + ": " + e);
    }
  }

  @Test
  @Order(1)
  void migrateMovesTheWorkloadBetweenAgentProcesses() throws Exception {
    try (Workload w = workloadOnHost1("main", 64, 2000)) {
      w.awaitOkLines(1, Duration.ofSeconds(60));
      long pid = w.pid();
      long t0 = System.nanoTime();
      Run run = E2eSteps.migrate(at, Long.toString(pid), "--from", "host1", "--to", "host2", "--downtime-limit", "30s",
          "--max-rounds", "12");
      String text = run.text();
      System.out.println("E2E-SEP $ migrate " + pid + " --to host2 (" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
          + " ms)\n" + text);
      Matcher done = E2eSteps.DONE.matcher(text);
      boolean moved = done.find();
      long restored = moved ? Long.parseLong(done.group(2)) : -1;
      try {
        assertEquals(ExitCode.DONE, run.code(), text + "\n--- host1:\n" + host1.log() + "\n--- host2:\n" + host2.log());
        assertTrue(moved && Long.parseLong(done.group(1)) == pid, text);
        assertNotEquals(pid, restored, "restored under a new outer pid (own pid namespace)");
        String restoredNetns = LabNetwork.netnsOf(restored).orElse("gone");
        assertEquals(net.host("host2").netnsId(), restoredNetns, "CRIU restored the workload into host2's network namespace");
        assertTrue(run.rounds() >= 1, "pre-copy rounds in the table:\n" + text);
        Matcher downtime = E2eSteps.DOWNTIME.matcher(text);
        assertTrue(downtime.find(), "downtime recorded:\n" + text);
        Await.until("source copy gone", () -> !E2eSteps.alive(pid), Duration.ofSeconds(10));
        long before = w.lastOk().orElseThrow().counter();
        w.movedTo(restored);
        MemtouchLine after = E2eSteps.assertRunsAloneAs(w, restored);
        Path stores = host2.dataDir().resolve("stores");
        Await.until("host2's page store and images removed after the commit", () -> isEmpty(stores), Duration.ofSeconds(30));
        System.out.println("E2E-SEP moved: pid " + pid + " -> " + restored + " on host2, " + run.rounds() + " rounds, downtime "
            + downtime.group(1) + "; workload OK counter " + before + " -> " + after.counter() + "; host2 store removed; netns "
            + net.host("host1").netnsId() + " (host1) -> " + restoredNetns + " (host2)");
      } finally {
        if (restored > 0) {
          ProcessHandle.of(restored).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    }
  }

  @Test
  @Order(2)
  void aDumpCriuCannotDoResumesTheSource() throws Exception {
    try (Workload w = workloadOnHost1("untraceable", 16, 500)) {
      w.awaitOkLines(1, Duration.ofSeconds(60));
      long pid = w.pid();
      // strace holds the ptrace attachment: CRIU cannot seize the process, its dump fails.
      Process strace = new ProcessBuilder("strace", "-qq", "-e", "trace=none", "-p", Long.toString(pid))
          .redirectErrorStream(true).redirectOutput(dir.resolve("strace.out").toFile()).start();
      Run r;
      try {
        Await.until("strace attached", () -> E2eSteps.tracerPid(pid) != 0, Duration.ofSeconds(30));
        r = E2eSteps.migrate(at, Long.toString(pid), "--from", "host1", "--to", "host2", "--downtime-limit", "30s",
            "--max-rounds", "6");
        System.out.println("E2E-SEP dump failure:\n" + r);
        String all = r.out() + r.err();
        assertTrue(all.contains("Checkpoint") || all.contains("criu dump"), "names the failed step:\n" + all);
        assertTrue(all.toLowerCase().contains("criu"), "carries CRIU's reason:\n" + all);
      } finally {
        strace.destroy();
        strace.waitFor(30, TimeUnit.SECONDS);
      }
      E2eSteps.assertRolledBack(r, ExitCode.FAILED_ROLLED_BACK, w, pid);
    }
  }

  @Test
  @Order(3)
  void theDestinationAgentKilledDuringItsRestoreRollsBackAndItsRestartKillsTheOrphanedCopy() throws Exception {
    host3 = agent("host3", criuWrapperDir);
    try (Workload w = workloadOnHost1("destination-killed", 32, 500)) {
      awaitRegistered(host3);
      System.out.println("E2E-SEP agent host3 registered");
      w.awaitOkLines(1, Duration.ofSeconds(60));
      long pid = w.pid();
      Run started = E2eSteps.migrate(at, Long.toString(pid), "--from", "host1", "--to", "host3", "--downtime-limit", "30s",
          "--max-rounds", "6", "--detach");
      assertEquals(ExitCode.DONE, started.code(), started.toString());
      String id = started.migrationId();
      Await.until("host3 in its criu restore", () -> Files.exists(restoreBegun), Duration.ofSeconds(180));
      assertEquals('T', E2eSteps.state(pid), "the source is frozen while the destination restores");
      host3.kill();
      System.out.println("E2E-SEP host3 (pid " + host3.pid() + ") killed with SIGKILL during its restore");
      // CRIU, now orphaned, finishes the restore: a stopped copy nobody knows about
      Files.writeString(release, "go");
      Run watch = E2eSteps.migrate(at, "watch", id);
      System.out.println("E2E-SEP destination killed:\n" + watch);
      E2eSteps.assertRolledBack(watch, ExitCode.FAILED_ROLLED_BACK, w, pid);
      Await.until("the orphaned criu restore ended", () -> Files.exists(restoreEnded), Duration.ofSeconds(120));
      List<Long> copies = E2eSteps.copies(w);
      System.out.println("E2E-SEP after the orphaned restore: copies " + copies + " (source " + pid + "); cmdline readable: "
          + copies.stream().map(c -> c + "=" + E2eSteps.cmdline(c).filter(l -> !l.isEmpty()).isPresent()).toList());
      assertEquals(2, copies.size(), "CRIU left a stopped restored copy besides the source: " + copies
          + "\n--- host3:\n" + host3.log());
      long orphan = copies.stream().filter(p -> p != pid).findFirst().orElseThrow();
      assertEquals('T', E2eSteps.state(orphan), "the orphaned copy is stopped");

      host3 = host3.restart(zkConnect, criuWrapperDir);
      Await.until("the restarted host3 kills the orphaned restored copy (migration rolled back)",
          () -> !E2eSteps.alive(orphan), Duration.ofSeconds(60));
      Await.until("host3's store of the migration removed", () -> !Files.exists(host3.dataDir().resolve("stores").resolve(id)),
          Duration.ofSeconds(30));
      E2eSteps.assertRunsAloneAs(w, pid);
      System.out.println("E2E-SEP restarted host3 killed the orphaned copy " + orphan + "; source " + pid + " runs alone");
    } finally {
      E2eSteps.killStoppedCopies(dir);
    }
  }

  // ------------------------------------------------------------------------------------------

  /** Waits for the agent's registration; checks it advertises its host's address and runs in its netns. */
  private static String awaitRegistered(AgentProcess a) throws Exception {
    try {
      Await.until("agent " + a.name() + " registered", () -> registered(a.name()) || !a.isAlive(), Duration.ofSeconds(40));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\n--- " + a.name() + ":\n" + a.log(), e);
    }
    assertTrue(a.isAlive(), "agent " + a.name() + " exited:\n" + a.log());
    LabNetwork.Host h = net.host(a.name());
    String advertised = AgentCapabilities.parseFrom(zkClient.getData().forPath("/ferry/agents/" + a.name())).getAddress();
    assertEquals(h.address() + ":" + AGENT_PORT, advertised, "agent " + a.name() + " advertises its namespace's address");
    assertEquals(h.netnsId(), LabNetwork.netnsOf(a.pid()).orElse("gone"), "agent " + a.name() + " runs in " + h.netns());
    return advertised;
  }

  private static boolean registered(String host) {
    try {
      return zkClient.checkExists().forPath("/ferry/agents/" + host) != null;
    } catch (Exception e) {
      return false;
    }
  }

  private static boolean isEmpty(Path dir) {
    try (var s = Files.list(dir)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      return !Files.exists(dir);
    }
  }

  private static String realCriu() {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin").split(File.pathSeparator)) {
      Path c = Path.of(d, "criu");
      if (Files.isExecutable(c) && !c.startsWith(dir)) {
        return c.toString();
      }
    }
    return "/usr/sbin/criu";
  }
}
