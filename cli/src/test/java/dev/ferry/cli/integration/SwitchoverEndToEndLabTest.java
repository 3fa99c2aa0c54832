package dev.ferry.cli.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.service.tls.TransportSecurity;
import dev.ferry.agent.Agent;
import dev.ferry.agent.criu.CriuCommand;
import dev.ferry.agent.criu.CriuRestores;
import dev.ferry.agent.criu.MinimalParentImages;
import dev.ferry.agent.criu.ProcessTree;
import dev.ferry.agent.criu.Restorer;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.cli.ExitCode;
import dev.ferry.cli.MigrateCommand;
import dev.ferry.cli.integration.E2eSteps.Run;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.coordinator.service.GrpcEndpoints;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.LabEnvironment;
import dev.ferry.testkit.MemtouchLine;
import dev.ferry.testkit.RequiresCriu;
import dev.ferry.testkit.RequiresSoftDirty;
import dev.ferry.testkit.Workload;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code migrate <pid> --to host2} end to end with the real CRIU switch-over, in the lab VM:
 * embedded ZooKeeper, a coordinator and agents host1/host2 (each its own gRPC server, data dir,
 * port and ZooKeeper session; in this JVM, since a JVM takes ~30-40 s to start under emulation),
 * the memtouch workload as the init of its own pid namespace (the source's stopped copy keeps its
 * pid until the commit), and the CLI's own entry point (MigrateCommand.run, what bin/migrate runs;
 * in this JVM too: a separate CLI JVM did not even reach the coordinator within 10 min in the
 * emulated VM on a loaded machine).
 *
 * <p>Then the faults: CRIU cannot dump (the pid is ptrace-attached by strace) → source resumes,
 * FAILED with CRIU's reason; cancel during pre-copy → source untouched; the destination agent
 * shut down during its restore → rollback, source resumes. Ordered: the last one closes host2.
 */
@RequiresCriu
@RequiresSoftDirty
@Timeout(value = 15, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SwitchoverEndToEndLabTest {
    @TempDir
    static Path dir;
    static EmbeddedZooKeeper zk;
    static Agent host1;
    static Agent host2;
    static Coordinator coordinator;
    static String at;
    /** Every pid the migrations restored: killed at the end whatever happened. */
    static final Set<Long> restoredPids = new LinkedHashSet<>();

    static Run migrate(String... args) {
        return E2eSteps.migrate(at, args);
    }

    static void await(String what, BooleanSupplier condition, Duration within) throws InterruptedException {
        dev.ferry.testkit.Await.until(what, condition, within);
    }

    static Agent agent(String name) throws IOException {
        return Agent.start(Agent.Config.of(name, new InetSocketAddress("127.0.0.1", 0), dir.resolve(name))
                .withZookeeper(zk.connectString(), "/ferry")
                .withDeadlineScale(DeadlineScale.fromEnvironment(System.getenv())));
    }

    @BeforeAll
    static void cluster() throws Exception {
        long t0 = System.nanoTime();
        zk = EmbeddedZooKeeper.start(LabEnvironment.scaled(Duration.ofSeconds(30)));
        host1 = agent("host1");
        host2 = agent("host2");
        Duration wait = LabEnvironment.scaled(Duration.ofSeconds(30));
        assertTrue(host1.awaitRegistered(wait) && host2.awaitRegistered(wait), "agents registered");
        assertTrue(host1.capabilities().getCriuUsable() && host1.capabilities().getSoftDirty(), host1.capabilities().toString());
        assertTrue(host2.capabilities().getCriuUsable(), host2.capabilities().toString());
        coordinator = new Coordinator(new Coordinator.Config(new InetSocketAddress("127.0.0.1", 0), zk.connectString(),
                new ZkLayout("/ferry"), Duration.ofSeconds(15), GrpcEndpoints.fromEnvironment(TransportSecurity.insecure("lab e2e coordinator")))).start();
        at = coordinator.address();
        await("leadership", coordinator::isLeader, Duration.ofSeconds(60));
        System.out.printf("E2E cluster up in %d ms: host1 %s, host2 %s, coordinator %s%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), host1.address(), host2.address(), at);
    }

    @AfterAll
    static void stop() {
        for (long pid : restoredPids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        for (AutoCloseable c : new AutoCloseable[] {coordinator, host1, host2, zk}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("closing " + c + ": " + e);
            }
        }
    }

    static Workload workload(String name, long mib, long rate) {
        return E2eSteps.workload(dir, name, mib, rate);
    }

    @Test
    @Order(1)
    void migrateMovesTheWorkloadToHost2WithItsMemoryIntact() throws Exception {
        try (Workload w = workload("main", 64, 2000)) {
            w.awaitOkLines(1, Duration.ofSeconds(60));
            long pid = w.pid();
            // The real CLI (bin/migrate's main, MigrateCommand) in this JVM: a second JVM took over
            // 10 min to start in the emulated VM on a loaded machine.
            long t0 = System.nanoTime();
            Run run = migrate(Long.toString(pid), "--to", "host2", "--downtime-limit", "30s", "--max-rounds", "12");
            // No terminal here: the CLI prints one plain row per round and phase (its live status
            // line, redrawn in place with CR / erase-line, is drawn only on a terminal).
            String text = run.text();
            System.out.println("E2E $ migrate " + pid + " --to host2 (" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
                    + " ms)\n" + text);
            Matcher done = E2eSteps.DONE.matcher(text);
            boolean moved = done.find();
            if (moved) {
                restoredPids.add(Long.parseLong(done.group(2)));
            }
            assertEquals(ExitCode.DONE, run.code(), text);
            assertTrue(moved && Long.parseLong(done.group(1)) == pid, text);
            long restored = Long.parseLong(done.group(2));
            assertNotEquals(pid, restored, "restored under a new outer pid (own pid namespace)");
            long rounds = run.rounds();
            assertTrue(rounds >= 1, "pre-copy rounds in the table:\n" + text);
            Matcher downtime = E2eSteps.DOWNTIME.matcher(text);
            assertTrue(downtime.find(), "downtime recorded:\n" + text);
            assertTrue(text.contains("CRIU used the pre-copied pages"), "the final dump used the parent:\n" + text);

            // Exactly one copy: the source's is gone, the restored one runs (not stopped) and verifies its memory.
            await("source copy gone", () -> !alive(pid), Duration.ofSeconds(10));
            long before = w.lastOk().orElseThrow().counter();
            w.movedTo(restored);
            MemtouchLine after = E2eSteps.assertRunsAloneAs(w, restored);
            Run status = migrate("list");
            System.out.println("E2E moved: pid " + pid + " -> " + restored + " on host2, " + rounds + " rounds, downtime "
                    + downtime.group(1) + "; workload OK counter " + before + " -> " + after.counter() + "\n" + status.out());
        }
    }

    @Test
    @Order(2)
    void aDumpCriuCannotDoResumesTheSourceAndFailsWithCriusReason() throws Exception {
        try (Workload w = workload("untraceable", 16, 500)) {
            w.awaitOkLines(1, Duration.ofSeconds(60));
            long pid = w.pid();
            // strace holds the ptrace attachment: CRIU cannot seize the process, its dump fails.
            Process strace = new ProcessBuilder("strace", "-qq", "-e", "trace=none", "-p", Long.toString(pid))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("strace.out").toFile()).start();
            try {
                await("strace attached", () -> tracerPid(pid) != 0, Duration.ofSeconds(30));
                Run r = migrate(Long.toString(pid), "--to", "host2", "--downtime-limit", "30s", "--max-rounds", "6");
                System.out.println("E2E dump failure:\n" + r);
                assertEquals(ExitCode.FAILED_ROLLED_BACK, r.code(), r.toString());
                String all = r.out() + r.err();
                assertTrue(all.contains("Checkpoint") || all.contains("criu dump"), "names the failed step:\n" + all);
                assertTrue(all.toLowerCase().contains("criu"), "carries CRIU's reason:\n" + all);
                assertTrue(alive(pid), "source alive");
                assertNotEquals('T', state(pid), "source resumed");
            } finally {
                strace.destroy();
                strace.waitFor(30, TimeUnit.SECONDS);
            }
            E2eSteps.assertRunsAloneAs(w, pid);
        }
    }

    @Test
    @Order(3)
    void cancelDuringPrecopyLeavesTheSourceUntouched() throws Exception {
        try (Workload w = workload("cancelled", 16, 20_000)) {
            w.awaitOkLines(1, Duration.ofSeconds(60));
            long pid = w.pid();
            Run started = migrate(Long.toString(pid), "--to", "host2", "--downtime-limit", "1ms", "--max-rounds", "1000",
                    "--detach");
            assertEquals(ExitCode.DONE, started.code(), started.toString());
            String id = started.migrationId();
            await("a round", () -> migrate("status", id).out().matches("(?s).*round [1-9].*"), Duration.ofSeconds(60));
            Run cancel = migrate("cancel", id);
            assertEquals(ExitCode.DONE, cancel.code(), cancel.toString());
            Run watch = migrate("watch", id);
            System.out.println("E2E cancel:\n" + watch);
            E2eSteps.assertRolledBack(watch, ExitCode.CANCELLED, w, pid);
        }
    }

    @Test
    @Order(4)
    void destinationAgentGoneDuringRestoreRollsBackAndTheSourceResumes() throws Exception {
        // A destination whose `criu restore` hangs (a wrapper in place of criu that waits instead
        // of restoring): closing that agent then certainly falls inside its restore, before the
        // commit. Watching for the real restore to start raced with it: on a quiet machine the
        // restore finished and the migration committed before the agent was closed, and from the
        // commit on everything rolls forward (resume on the destination), as it must.
        Path marker = dir.resolve("host3-restore-started");
        Path wrapper = dir.resolve("criu-hanging-restore");
        Files.writeString(wrapper, "#!/bin/sh\nif [ \"$1\" = restore ]; then : > '" + marker + "'; exec sleep 3600; fi\nexec criu \"$@\"\n");
        assertTrue(wrapper.toFile().setExecutable(true));
        Agent host3 = Agent.start(Agent.Config.of("host3", new InetSocketAddress("127.0.0.1", 0), dir.resolve("host3"))
                .withZookeeper(zk.connectString(), "/ferry")
                .withDeadlineScale(DeadlineScale.fromEnvironment(System.getenv()))
                .withRestores(new CriuRestores(new Restorer(new CriuCommand(wrapper, 2), new MinimalParentImages(), new ProcessTree(),
                        Duration.ofMinutes(30), List.of()))));
        try (Workload w = workload("destination-gone", 32, 500)) {
            assertTrue(host3.awaitRegistered(LabEnvironment.scaled(Duration.ofSeconds(30))), "host3 registered");
            w.awaitOkLines(1, Duration.ofSeconds(60));
            long pid = w.pid();
            Run started = migrate(Long.toString(pid), "--from", "host1", "--to", "host3", "--downtime-limit", "30s", "--max-rounds", "6",
                    "--detach");
            assertEquals(ExitCode.DONE, started.code(), started.toString());
            String id = started.migrationId();
            await("host3 restoring", () -> Files.exists(marker), Duration.ofSeconds(180));
            assertEquals('T', state(pid), "the source is frozen while the destination restores");
            host3.close();
            System.out.println("E2E host3 closed during its restore");
            Run watch = migrate("watch", id);
            System.out.println("E2E destination gone:\n" + watch);
            E2eSteps.assertRolledBack(watch, ExitCode.FAILED_ROLLED_BACK, w, pid);
        } finally {
            host3.close();
            E2eSteps.killStoppedCopies(dir);
        }
    }

    // ------------------------------------------------------------------------------------------

    private static boolean alive(long pid) {
        return E2eSteps.alive(pid);
    }

    private static char state(long pid) {
        return E2eSteps.state(pid);
    }

    private static int tracerPid(long pid) {
        return E2eSteps.tracerPid(pid);
    }
}
