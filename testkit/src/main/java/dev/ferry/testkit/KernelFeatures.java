package dev.ferry.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Probes what this kernel and host can do, by trying it (never by hostname or kernel version):
 * soft-dirty by running {@code ferry-memtouch --probe-soft-dirty} (write a page, clear_refs 4,
 * bit 55 clear, write, bit 55 set), CRIU by {@code criu check}, network namespaces by making a
 * veth pair inside a throwaway one ({@link #probeNetworkNamespaces()}). Every outcome, including
 * "gcc/criu not installed", is a {@link FeatureCheck}, never an exception.
 */
public final class KernelFeatures {
    private static final Duration PROBE_DEADLINE = Duration.ofSeconds(60);

    private KernelFeatures() {}

    public static FeatureCheck probe(KernelFeature feature) {
        return switch (feature) {
            case SOFT_DIRTY -> probeSoftDirty();
            case CRIU -> probeCriu();
            case NETWORK_NAMESPACES -> probeNetworkNamespaces();
        };
    }

    public static FeatureCheck probeSoftDirty() {
        MemtouchBinary binary;
        try {
            binary = MemtouchBinary.locate();
        } catch (RuntimeException e) {
            return FeatureCheck.missing(KernelFeature.SOFT_DIRTY, "cannot build the probe: " + e.getMessage());
        }
        Outcome o = run(List.of(binary.executable().toString(), "--probe-soft-dirty"));
        if (o.exitCode() == 0) {
            return FeatureCheck.available(KernelFeature.SOFT_DIRTY, o.output().strip());
        }
        String out = o.output().strip();
        // the probe's line is "soft-dirty: missing on kernel X: <reason>"; keep the reason
        int cut = out.indexOf(": ", out.indexOf("missing on kernel"));
        String reason = out.contains("missing on kernel") && cut > 0 ? out.substring(cut + 2) : out;
        return FeatureCheck.missing(KernelFeature.SOFT_DIRTY, reason.isEmpty() ? "probe exited " + o.exitCode() : reason);
    }

    public static FeatureCheck probeCriu() {
        Outcome version = run(List.of("criu", "--version"));
        if (version.exitCode() == Outcome.NOT_FOUND) {
            return FeatureCheck.missing(KernelFeature.CRIU, "criu is not installed (apt-get install criu)");
        }
        Outcome check = run(List.of("criu", "check"));
        String v = version.output().strip().replace('\n', ' ');
        String out = check.output().strip();
        if (check.exitCode() == 0) {
            return FeatureCheck.available(KernelFeature.CRIU, v + "; criu check: " + out.replace('\n', ' '));
        }
        String[] lines = out.split("\n");
        String tail = String.join(" | ", List.of(lines).subList(Math.max(0, lines.length - 3), lines.length));
        return FeatureCheck.missing(KernelFeature.CRIU, "criu check exited " + check.exitCode() + " (" + v + "): " + tail);
    }

    /**
     * Network namespaces with veth pairs, as {@link LabNetwork} makes them: {@code ip} (iproute2)
     * makes a veth pair inside a fresh network namespace of its own ({@code unshare --net}), which
     * dies with the probe: nothing is left on this host, whatever the outcome. Fails without
     * iproute2 or util-linux, without CAP_NET_ADMIN/CAP_SYS_ADMIN, or without the veth driver.
     */
    public static FeatureCheck probeNetworkNamespaces() {
        Outcome version = run(List.of("ip", "-V"));
        if (version.exitCode() == Outcome.NOT_FOUND) {
            return FeatureCheck.missing(KernelFeature.NETWORK_NAMESPACES, "ip is not installed (apt-get install iproute2)");
        }
        Outcome veth = run(List.of("unshare", "--net", "--", "ip", "link", "add", "ferry-probe0", "type", "veth",
                "peer", "name", "ferry-probe1"));
        String v = version.output().strip().replace('\n', ' ');
        if (veth.exitCode() == 0) {
            return FeatureCheck.available(KernelFeature.NETWORK_NAMESPACES, v + "; a veth pair made in a new network namespace");
        }
        String why = veth.exitCode() == Outcome.NOT_FOUND ? "unshare (util-linux) is not installed"
                : "unshare --net ip link add ... type veth exited " + veth.exitCode() + ": " + veth.output().strip().replace('\n', ' ');
        return FeatureCheck.missing(KernelFeature.NETWORK_NAMESPACES, why + " (" + v + ")");
    }

    record Outcome(int exitCode, String output) {
        static final int NOT_FOUND = -127;
        static final int TIMED_OUT = -124;
    }

    static Outcome run(List<String> cmd) {
        return run(cmd, PROBE_DEADLINE);
    }

    /** Runs {@code cmd}, output and errors merged, at most {@code deadline} (scaled in the lab). */
    static Outcome run(List<String> cmd, Duration deadline) {
        Path log = null;
        try {
            log = Files.createTempFile("ferry-probe", ".log");
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                return new Outcome(Outcome.NOT_FOUND, cmd.get(0) + " not found: " + e.getMessage());
            }
            Duration scaled = LabEnvironment.scaled(deadline);
            if (!p.waitFor(scaled.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Outcome(Outcome.TIMED_OUT, String.join(" ", cmd) + " did not finish within " + scaled);
            }
            return new Outcome(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Outcome(Outcome.NOT_FOUND, "cannot run " + cmd.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(Outcome.TIMED_OUT, "interrupted while running " + cmd.get(0));
        } finally {
            if (log != null) {
                try {
                    Files.deleteIfExists(log);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }
}
