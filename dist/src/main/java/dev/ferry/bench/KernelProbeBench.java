package dev.ferry.bench;

import dev.ferry.testkit.FeatureCheck;
import dev.ferry.testkit.KernelFeature;
import dev.ferry.testkit.KernelFeatures;
import dev.ferry.testkit.LabEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/ferry-bench kernel-probe}: what probing this kernel's features costs (the agent
 * probes at start and the tests once per run) and what it finds: soft-dirty (C probe: write,
 * clear_refs 4, write, pagemap bit 55) and CRIU ({@code criu --version} + {@code criu check}).
 */
@Command(name = "kernel-probe", mixinStandardHelpOptions = true,
        description = "Times the soft-dirty and CRIU probes and prints what this kernel has.")
final class KernelProbeBench implements Callable<Integer> {
    @Option(names = "--repeat", defaultValue = "5", description = "Probe runs per feature (default ${DEFAULT-VALUE}).")
    int repeat;

    @Override
    public Integer call() {
        if (repeat < 1) {
            System.err.println("--repeat must be >= 1, got " + repeat);
            return 2;
        }
        KernelFeatures.probeSoftDirty(); // builds the probe binary once, outside the timing
        List<String> figures = new ArrayList<>();
        figures.add("kernel=" + LabEnvironment.kernelRelease());
        System.out.printf("%-12s %-9s %9s %9s %9s  %s%n", "feature", "present", "min_ms", "median_ms", "max_ms", "detail");
        for (KernelFeature f : KernelFeature.values()) {
            double[] ms = new double[repeat];
            FeatureCheck last = null;
            for (int i = 0; i < repeat; i++) {
                long t0 = System.nanoTime();
                last = KernelFeatures.probe(f);
                ms[i] = Duration.ofNanos(System.nanoTime() - t0).toNanos() / 1e6;
            }
            Arrays.sort(ms);
            String name = f.name().toLowerCase(Locale.ROOT);
            System.out.printf(Locale.ROOT, "%-12s %-9s %9.1f %9.1f %9.1f  %s%n", name, last.available() ? "yes" : "no",
                    ms[0], ms[repeat / 2], ms[repeat - 1], abbreviate(last.detail(), 100));
            figures.add(name + "=" + (last.available() ? 1 : 0));
            figures.add(name + "_probe_median_ms=" + String.format(Locale.ROOT, "%.1f", ms[repeat / 2]));
        }
        System.out.println(String.join(" ", figures));
        return 0;
    }

    private static String abbreviate(String s, int max) {
        String one = s.replace('\n', ' ');
        return one.length() <= max ? one : one.substring(0, max - 3) + "...";
    }
}
