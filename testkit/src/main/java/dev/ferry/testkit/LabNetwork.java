package dev.ferry.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Hosts as network namespaces of one kernel, each joined by a veth pair to the network namespace
 * this JVM runs in (the "hub": ZooKeeper, the coordinator and the CLI), which routes between
 * them. Made and removed with iproute2's {@code ip} (never raw netlink); needs CAP_NET_ADMIN, so
 * it is for the lab VM ({@link RequiresNetworkNamespaces}).
 *
 * <p>Host number {@code i} (1-based, in the order given) gets the namespace {@code <prefix>-<name>}
 * and the subnet 10.77.i.0/24: {@code <prefix>-v<i>} in the hub with 10.77.i.1 (the host's
 * gateway) and its peer {@code <prefix>-v<i>p} in the host's namespace with 10.77.i.2, lo up, a
 * default route via the gateway. The hub's own address {@value #HUB} sits on the hub's lo (what
 * its servers bind: no host reaches it over loopback), and the hub forwards IPv4 between the
 * veths: host1 → host2 crosses host1's veth, the hub and host2's veth.
 *
 * <p>Processes join a host with {@link Host#enter()}: {@code nsenter --net=/run/netns/<ns>}, which
 * enters the network namespace only. Not {@code ip netns exec}: it also makes a new mount
 * namespace per command (to remount /sys), and CRIU takes every namespace in which the dumped
 * task differs from CRIU itself into the image: an agent and its workload started by two
 * {@code ip netns exec} would differ in their mount namespaces, and CRIU would try to dump mounts.
 *
 * <p>{@link #create} first removes what a previous run with the same prefix may have left (links,
 * namespaces, the hub address); {@link #close()} removes everything it made and restores
 * {@code ip_forward}; {@link #leftovers()} says what is still there. The addresses are fixed: one
 * LabNetwork per kernel at a time. Not thread-safe.
 */
public final class LabNetwork implements AutoCloseable {
    /** The hub's address (a /32 on its lo), reachable from every host through its veth. */
    public static final String HUB = "10.77.0.1";
    private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");
    private static final Duration COMMAND_DEADLINE = Duration.ofSeconds(30);

    /** One host: its namespace, its veth pair and addresses. */
    public record Host(String name, int index, String netns, String hubLink, String hostLink) {
        /** The host's address (what its agent binds and advertises), e.g. 10.77.1.2. */
        public String address() {
            return "10.77." + index + ".2";
        }

        /** The hub's end of the host's veth, the host's default gateway, e.g. 10.77.1.1. */
        public String gateway() {
            return "10.77." + index + ".1";
        }

        /** The namespace's bind mount, made by {@code ip netns add}. */
        public Path netnsPath() {
            return Path.of("/run/netns", netns);
        }

        /** The command prefix that runs a command in this host's network namespace (only). */
        public List<String> enter() {
            return List.of("nsenter", "--net=" + netnsPath());
        }

        /** The namespace's identity as {@code /proc/PID/ns/net} names it, e.g. {@code net:[4026532281]}. */
        public String netnsId() {
            try {
                return "net:[" + Files.getAttribute(netnsPath(), "unix:ino") + "]";
            } catch (IOException e) {
                throw new UncheckedIOException("no network namespace " + netns, e);
            }
        }
    }

    private final String prefix;
    private final Map<String, Host> hosts;
    private final String forwardBefore;
    private boolean closed;

    private LabNetwork(String prefix, Map<String, Host> hosts, String forwardBefore) {
        this.prefix = prefix;
        this.hosts = hosts;
        this.forwardBefore = forwardBefore;
    }

    /**
     * Makes the hosts' namespaces and veths, the hub address and forwarding. On a failure, removes
     * what it made and throws {@link IllegalStateException} with {@code ip}'s own words.
     *
     * @param prefix of every name made (at most 6 characters: link names have 15), e.g. "ferry"
     */
    public static LabNetwork create(String prefix, List<String> hostNames) {
        if (!prefix.matches("[a-z][a-z0-9]{0,5}")) {
            throw new IllegalArgumentException("prefix must be 1-6 lower-case letters or digits: '" + prefix + "'");
        }
        if (hostNames.isEmpty() || hostNames.size() > 250) {
            throw new IllegalArgumentException("1 to 250 hosts, got " + hostNames.size());
        }
        Map<String, Host> hosts = new LinkedHashMap<>();
        for (String name : hostNames) {
            int i = hosts.size() + 1;
            hosts.put(name, new Host(name, i, prefix + "-" + name, prefix + "-v" + i, prefix + "-v" + i + "p"));
        }
        String forward;
        try {
            forward = Files.readString(IP_FORWARD).strip();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + IP_FORWARD + ": " + e.getMessage(), e);
        }
        LabNetwork net = new LabNetwork(prefix, hosts, forward);
        List<String> stale = net.leftovers();
        if (!stale.isEmpty()) {
            net.removeAll();
            System.out.println("LabNetwork: removed leftovers of an earlier run: " + String.join(", ", stale));
        }
        // one ip process per namespace (ip -batch): each exec costs about a second in the emulated lab
        try {
            List<String> hub = new ArrayList<>(List.of("addr add " + HUB + "/32 dev lo"));
            for (Host h : hosts.values()) {
                hub.add("netns add " + h.netns());
                hub.add("link add " + h.hubLink() + " type veth peer name " + h.hostLink() + " netns " + h.netns());
                hub.add("addr add " + h.gateway() + "/24 dev " + h.hubLink());
                hub.add("link set " + h.hubLink() + " up");
            }
            batch(List.of(), hub, false);
            for (Host h : hosts.values()) {
                batch(List.of("-n", h.netns()), List.of("link set lo up", "addr add " + h.address() + "/24 dev " + h.hostLink(),
                        "link set " + h.hostLink() + " up", "route add default via " + h.gateway()), false);
            }
            Files.writeString(IP_FORWARD, "1\n");
        } catch (RuntimeException | IOException e) {
            net.close();
            throw new IllegalStateException("cannot set up the lab network: " + e.getMessage(), e);
        }
        return net;
    }

    public Host host(String name) {
        Host h = hosts.get(name);
        if (h == null) {
            throw new IllegalArgumentException("no host " + name + " in this lab network (hosts: " + hosts.keySet() + ")");
        }
        return h;
    }

    public List<Host> hosts() {
        return List.copyOf(hosts.values());
    }

    /** The network namespace of process {@code pid}, e.g. {@code net:[4026531840]}; empty when it is gone. */
    public static Optional<String> netnsOf(long pid) {
        try {
            return Optional.of(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "net")).toString());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** What of this network exists now (namespaces, hub links, the hub address); empty after {@link #close()}. */
    public List<String> leftovers() {
        List<String> left = new ArrayList<>();
        String netns = run(List.of("ip", "netns", "list")).output();
        String links = run(List.of("ip", "-o", "link", "show")).output();
        for (Host h : hosts.values()) {
            if (netns.lines().anyMatch(l -> l.equals(h.netns()) || l.startsWith(h.netns() + " "))) {
                left.add("netns " + h.netns());
            }
            if (links.contains(" " + h.hubLink() + "@") || links.contains(" " + h.hubLink() + ":")) {
                left.add("link " + h.hubLink());
            }
        }
        if (run(List.of("ip", "-o", "addr", "show", "dev", "lo")).output().contains(" " + HUB + "/32")) {
            left.add("address " + HUB + " on lo");
        }
        return left;
    }

    /**
     * Removes the veths, namespaces and hub address, and restores {@code ip_forward}. Deleting the
     * hub's end of a veth deletes the pair even while a process still holds the host's namespace
     * (a namespace lives on until its last process exits: stop the hosts' processes first).
     * Idempotent; throws {@link IllegalStateException} if something could not be removed.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        removeAll();
        try {
            Files.writeString(IP_FORWARD, forwardBefore + "\n");
        } catch (IOException e) {
            throw new IllegalStateException("cannot restore " + IP_FORWARD + " to " + forwardBefore + ": " + e.getMessage(), e);
        }
        List<String> left = leftovers();
        if (!left.isEmpty()) {
            throw new IllegalStateException("the lab network " + prefix + " was not removed entirely: " + left);
        }
    }

    /** Deletes whatever of this network exists (one {@code ip -force -batch}: what is not there is skipped). */
    private void removeAll() {
        List<String> lines = new ArrayList<>();
        for (Host h : hosts.values()) {
            lines.add("link del " + h.hubLink());
            lines.add("netns del " + h.netns());
        }
        lines.add("addr del " + HUB + "/32 dev lo");
        batch(List.of(), lines, true);
    }

    /**
     * Runs {@code lines} as one {@code ip [options] -batch FILE}. Unless {@code force}, the first
     * failing line stops it and throws {@link IllegalStateException} with ip's words; with
     * {@code force} (ip's -force) failing lines are skipped and nothing is thrown.
     */
    private static void batch(List<String> options, List<String> lines, boolean force) {
        Path file = null;
        try {
            file = Files.createTempFile("ferry-labnet", ".ip");
            Files.write(file, lines);
            List<String> cmd = new ArrayList<>(List.of("ip"));
            cmd.addAll(options);
            if (force) {
                cmd.add("-force");
            }
            cmd.addAll(List.of("-batch", file.toString()));
            KernelFeatures.Outcome o = run(cmd);
            if (o.exitCode() != 0 && !force) {
                throw new IllegalStateException(String.join(" ", cmd) + " [" + String.join("; ", lines) + "] exited " + o.exitCode()
                        + ": " + o.output().strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write an ip batch file", e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    private static KernelFeatures.Outcome run(List<String> cmd) {
        return KernelFeatures.run(cmd, COMMAND_DEADLINE);
    }

    @Override
    public String toString() {
        return "LabNetwork[" + prefix + ", hub " + HUB + ", " + hosts.values().stream()
                .map(h -> h.name() + "=" + h.netns() + "/" + h.address()).toList() + "]";
    }
}
