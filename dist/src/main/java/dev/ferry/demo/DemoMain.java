package dev.ferry.demo;

import dev.ferry.agent.Agent;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.cli.MigrateCommand;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.coordinator.service.GrpcEndpoints;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.service.tls.DevCertificates;
import dev.ferry.service.tls.TransportSecurity;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.service.zookeeper.ZooKeeperCredentials;
import dev.ferry.testkit.FeatureCheck;
import dev.ferry.testkit.KernelFeatures;
import dev.ferry.testkit.LabEnvironment;
import dev.ferry.testkit.MemtouchLine;
import dev.ferry.testkit.Workload;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/ferry-demo}: Ferry's main job on one machine. An embedded ZooKeeper, a coordinator
 * and two agents (host1, host2) on loopback, the ferry-memtouch workload, and
 * {@code migrate <its pid> --to host2} with the live round table.
 *
 * <p>Without {@code --dry-run} it performs the real migration (pre-copy, CRIU switch-over,
 * commit in ZooKeeper) and follows the workload to its restored pid on host2. Where this kernel
 * lacks soft-dirty or CRIU it refuses, naming what is missing, unless {@code --lab} asks it to
 * re-run inside the lab VM ({@code deploy/lab/run-in-vm}); {@code --dry-run} rehearses here.
 * Exit status: 0 complete, 1 failed or incomplete, 2 refused.
 */
@Command(name = "ferry-demo", mixinStandardHelpOptions = true, version = "ferry-demo 0.1.0",
        description = "Live-migrates a demo workload between two agents on this machine (or in the lab VM).")
public final class DemoMain implements Callable<Integer> {
    @Option(names = "--dry-run", description = "Stay on this machine and rehearse (pre-copy rounds, no switch-over).")
    boolean dryRun;

    @Option(names = "--size-mib", defaultValue = "256", description = "Workload memory in MiB (default ${DEFAULT-VALUE}).")
    long sizeMib;

    @Option(names = "--rate", defaultValue = "2000", description = "Pages the workload dirties per second (default ${DEFAULT-VALUE}).")
    long rate;

    @Option(names = "--lab", description = "Where this kernel lacks soft-dirty or CRIU, re-run this demo inside the lab VM"
            + " (deploy/lab/run-in-vm: Debian's kernel under QEMU, minutes). Without it such a host refuses a real migration.")
    boolean lab;

    private final List<String> missing = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new DemoMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        say("Ferry demo on kernel " + LabEnvironment.kernelRelease() + (LabEnvironment.isLab() ? " (inside the lab VM)" : ""));
        FeatureCheck softDirty = KernelFeatures.probeSoftDirty();
        FeatureCheck criu = KernelFeatures.probeCriu();
        say("  " + softDirty.message());
        say("  " + criu.message());
        boolean capable = softDirty.available() && criu.available();
        if (!capable && !dryRun) {
            if (LabEnvironment.isLab()) {
                say("FAILED: the lab VM must have soft-dirty and CRIU; it does not (see above).");
                return 1;
            }
            if (lab) {
                return new LabRerun(this::say).rerunInLab(rerunArgs());
            }
            say(refusal(softDirty, criu));
            return 2;
        }
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
            say("ZooKeeper (embedded) serving on " + zk.connectString());
            boolean root = "root".equals(System.getProperty("user.name"));
            try (Workload w = Workload.memtouch().sizeMib(sizeMib).ratePagesPerSecond(rate)
                    .verifyInterval(Duration.ofSeconds(1)).ownPidNamespace(root).start()) {
                say("workload ferry-memtouch: pid " + w.pid() + ", " + sizeMib + " MiB, " + rate
                        + " pages/s dirtied, verifying itself every second into " + w.outputFile());
                MemtouchLine first = w.awaitOkLines(1, Duration.ofSeconds(60));
                say("  " + first.raw());
                int code = migrate(zk, w);
                MemtouchLine later = w.awaitOkBeyond(first.counter() + 1, Duration.ofSeconds(30));
                say("  " + later.raw());
                w.assertNoCorruption();
                say("workload verified its memory " + later.counter() + " times, no corruption");
                if (code != 0) {
                    missing.add("a successful `migrate` (exit code " + code + ", see its message above)");
                }
            }
        }
        if (missing.isEmpty()) {
            say("demo complete");
            return 0;
        }
        say("demo INCOMPLETE: still missing: " + String.join("; ", missing));
        return 1;
    }

    /**
     * Starts agents host1 and host2 and a coordinator on loopback (in this JVM, each with its own
     * gRPC server, data dir and ZooKeeper session, exactly as the daemons run them), then runs
     * {@code migrate <pid> --from host1 --to host2 [--dry-run]} with its live table; returns
     * migrate's exit code.
     */
    private int migrate(EmbeddedZooKeeper zk, Workload w) throws Exception {
        long pid = w.pid();
        Path data = Files.createTempDirectory("ferry-demo");
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        // Its own development CA and certificates (agents host1/host2, coordinator, operator), and
        // a ZooKeeper secret: every hop below is mutual TLS, every znode carries Ferry's ACL.
        Path certsDir = data.resolve("certs");
        // In the emulated lab VM a first TLS handshake outlasts the gRPC client's fixed 10 s
        // handshake timeout (the demo's migrate failed there with "coordinator unavailable" from
        // the SslHandler), and generating the certificates alone takes minutes: plaintext there.
        boolean tls = !LabEnvironment.isLab();
        DevCertificates certs = tls ? DevCertificates.createAll(certsDir, "host1", "host2") : null;
        ZooKeeperCredentials zkSecret = ZooKeeperCredentials.createSecretFile(data.resolve("zk-secret"), ZooKeeperCredentials.DEFAULT_USER);
        say(tls ? "development certificates (CA, host1, host2, coordinator, operator, viewer) in " + certsDir
                : "in the emulated lab VM: plaintext gRPC on loopback (a first TLS handshake there outlasts gRPC's client"
                + " handshake timeout); mutual TLS runs natively");
        DeadlineScale scale = DeadlineScale.fromEnvironment(System.getenv());
        try (Agent host1 = Agent.start(agent("host1", loopback, data, certs, zk, zkSecret).withDeadlineScale(scale));
             Agent host2 = Agent.start(agent("host2", loopback, data, certs, zk, zkSecret).withDeadlineScale(scale));
             Coordinator coordinator = new Coordinator(new Coordinator.Config(loopback, zk.connectString(), new ZkLayout("/ferry"),
                     Duration.ofSeconds(15), GrpcEndpoints.fromEnvironment(tls ? TransportSecurity.mutualTls(certs.coordinator())
                             : TransportSecurity.insecure("demo coordinator (lab VM)")),
                     zkSecret)).start()) {
            Duration wait = LabEnvironment.scaled(Duration.ofSeconds(60));
            if (!host1.awaitRegistered(wait) || !host2.awaitRegistered(wait)) {
                say("FAILED: the agents did not register in ZooKeeper within " + wait.toSeconds() + " s");
                return 1;
            }
            say("agents host1 (" + host1.address() + ") and host2 (" + host2.address() + "), coordinator "
                    + coordinator.address() + (tls ? ": mutual TLS on every channel (CLI, coordinator, agents), roles from the certificates"
                    : ": plaintext (lab VM)"));
            long deadline = System.nanoTime() + wait.toNanos();
            while (!coordinator.isLeader()) {
                if (System.nanoTime() > deadline) {
                    say("FAILED: the coordinator was not elected leader within " + wait.toSeconds() + " s");
                    return 1;
                }
                Thread.sleep(50); // polling the leader latch; no callback for the demo to wait on
            }
            List<String> args = new ArrayList<>(List.of(Long.toString(pid), "--from", "host1", "--to", "host2",
                    "--coordinator", coordinator.address()));
            if (tls) {
                args.addAll(List.of("--certs", certsDir.toString(), "--cert-name", DevCertificates.OPERATOR));
            } else {
                args.add("--insecure");
            }
            if (dryRun) {
                args.add("--dry-run");
            } else if (LabEnvironment.isLab()) {
                // Under emulation everything is ~10x slower (CRIU alone takes seconds): a limit the
                // emulated switch-over can meet, else pre-copy never ends.
                args.addAll(List.of("--downtime-limit", "30s", "--max-rounds", "12"));
            }
            say("$ migrate " + String.join(" ", args));
            StringWriter copy = new StringWriter();
            PrintWriter out = new PrintWriter(new TeeWriter(new PrintWriter(System.out, true, StandardCharsets.UTF_8), copy), true);
            PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
            int code = MigrateCommand.run(args.toArray(String[]::new), out, err, new ByteArrayInputStream(new byte[0]));
            say("migrate exited with " + code);
            Matcher moved = MOVED.matcher(copy.toString());
            if (!dryRun && code == 0 && moved.find()) {
                long now = Long.parseLong(moved.group(1));
                w.movedTo(now);
                say("the workload now runs on host2 as pid " + now + (isAlive(pid) ? "; pid " + pid + " STILL RUNS on host1"
                        : "; its copy on host1 (pid " + pid + ") is gone"));
            }
            return code;
        }
    }

    private static Agent.Config agent(String host, InetSocketAddress listen, Path data, DevCertificates certs, EmbeddedZooKeeper zk,
                                      ZooKeeperCredentials zkSecret) {
        return Agent.Config.of(host, listen, data.resolve(host)).withZookeeper(zk.connectString(), "/ferry")
                .withSecurity(certs != null ? TransportSecurity.mutualTls(certs.agent(host)) : TransportSecurity.insecure("demo agent " + host))
                .withZookeeperCredentials(zkSecret);
    }

    private static final Pattern MOVED = Pattern.compile("now runs on host2 as pid (\\d+)");

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** What migrate prints goes to the terminal and into a copy (to learn the restored pid). */
    private static final class TeeWriter extends java.io.Writer {
        private final java.io.Writer a;
        private final java.io.Writer b;

        TeeWriter(java.io.Writer a, java.io.Writer b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(char[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            a.flush();
            b.flush();
        }

        @Override
        public void close() throws java.io.IOException {
            flush();
        }
    }

    /** The message of a host that cannot switch over, naming what it lacks and the two ways on. */
    static String refusal(FeatureCheck softDirty, FeatureCheck criu) {
        List<String> lacks = new ArrayList<>();
        if (!softDirty.available()) {
            lacks.add("soft-dirty page tracking");
        }
        if (!criu.available()) {
            lacks.add("a working CRIU");
        }
        return "REFUSED: a real migration needs " + String.join(" and ", lacks) + ", which this host ("
                + LabEnvironment.kernelRelease() + ") lacks (see above). Either rehearse here with\n"
                + "  bin/ferry-demo --dry-run      (pre-copy rounds with the content-hash tracker, no switch-over)\n"
                + "or run the real migration in the lab VM (Debian's kernel under QEMU, takes minutes):\n"
                + "  bin/ferry-demo --lab          (same as: deploy/lab/run-in-vm -- bin/ferry-demo)";
    }

    private List<String> rerunArgs() {
        List<String> a = new ArrayList<>(List.of("--size-mib", Long.toString(sizeMib), "--rate", Long.toString(rate)));
        return a;
    }

    private void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
