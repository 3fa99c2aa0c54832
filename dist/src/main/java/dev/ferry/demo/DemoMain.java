package dev.ferry.demo;

import dev.ferry.testkit.EmbeddedZooKeeper;
import dev.ferry.testkit.FeatureCheck;
import dev.ferry.testkit.KernelFeatures;
import dev.ferry.testkit.LabEnvironment;
import dev.ferry.testkit.MemtouchLine;
import dev.ferry.testkit.Workload;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/ferry-demo}: Ferry's main job on one machine. An embedded ZooKeeper, a coordinator
 * and two agents (host1, host2) on loopback, the ferry-memtouch workload, and
 * {@code migrate <its pid> --to host2} with the live round table.
 *
 * <p>Where this kernel lacks soft-dirty or CRIU, the demo re-runs itself inside the lab VM
 * ({@code deploy/lab/run-in-vm}); {@code --dry-run} stays here and rehearses without switching
 * over. Until every part has landed it runs what exists and says plainly what is missing.
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

    @Option(names = "--no-vm", description = "Never re-run inside the lab VM, even when this kernel lacks soft-dirty/CRIU.")
    boolean noVm;

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
            if (!noVm) {
                return new LabRerun(this::say).rerunInLab(rerunArgs());
            }
            say("This kernel cannot switch over (see above) and --no-vm was given: rehearsing as with --dry-run.");
            dryRun = true;
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
                checkComponents();
                MemtouchLine later = w.awaitOkBeyond(first.counter() + 1, Duration.ofSeconds(30));
                say("  " + later.raw());
                w.assertNoCorruption();
                say("workload verified its memory " + later.counter() + " times, no corruption");
            }
        }
        if (missing.isEmpty()) {
            say("demo complete");
        } else {
            say("demo INCOMPLETE: still missing: " + String.join("; ", missing));
        }
        return 0;
    }

    /** Which of the parts the full demo needs are in this build; each missing one is named. */
    private void checkComponents() {
        component("dev.ferry.coordinator.CoordinatorMain", "the coordinator (issue 5)");
        component("dev.ferry.agent.AgentMain", "the agent daemon (issue 4)");
        component("dev.ferry.cli.MigrateCommand", "the migrate CLI (issue 7)");
        missing.add("wiring of coordinator + agents host1/host2 + `migrate <pid> --to host2" + (dryRun ? " --dry-run" : "")
                + "` into this demo (lands once the coordinator's main is in the build)");
    }

    private void component(String className, String what) {
        try {
            Class.forName(className, false, DemoMain.class.getClassLoader());
            say("  present: " + what + " (" + className + ")");
        } catch (ClassNotFoundException e) {
            say("  MISSING: " + what + " (" + className + " is not in this build yet)");
            missing.add(what);
        }
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
