package dev.ferry.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link LabNetwork} for real (lab: it changes this kernel's network): the namespaces, veths,
 * addresses and routes it makes, what a second run finds left over, and that close removes it
 * all. Names use the prefix "ftest", apart from the end-to-end tests' "ferry".
 */
@RequiresNetworkNamespaces
class LabNetworkTest {
    private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

    @Test
    void hostsAreNamespacesRoutedThroughTheHubAndCloseLeavesNothing() throws Exception {
        String forwardBefore = Files.readString(IP_FORWARD).strip();
        String own = LabNetwork.netnsOf(ProcessHandle.current().pid()).orElseThrow();
        LabNetwork net = LabNetwork.create("ftest", List.of("a", "b"));
        try {
            LabNetwork.Host a = net.host("a");
            LabNetwork.Host b = net.host("b");
            assertEquals("10.77.1.2", a.address());
            assertEquals("10.77.2.1", b.gateway());
            assertEquals(List.of("nsenter", "--net=/run/netns/ftest-a"), a.enter());
            assertNotEquals(a.netnsId(), b.netnsId());
            assertNotEquals(own, a.netnsId(), "a host is not the hub's namespace");
            assertEquals(List.of("netns ftest-a", "link ftest-v1", "netns ftest-b", "link ftest-v2", "address 10.77.0.1 on lo"),
                    net.leftovers());
            assertEquals("1", Files.readString(IP_FORWARD).strip(), "the hub forwards between the veths");
            // a -> b goes via a's gateway on the hub; the hub reaches b on b's veth; a reaches the hub address
            assertTrue(ip("-n", "ftest-a", "route", "get", "10.77.2.2").contains("via 10.77.1.1 dev ftest-v1p"),
                    ip("-n", "ftest-a", "route", "get", "10.77.2.2"));
            assertTrue(ip("route", "get", "10.77.2.2").contains("dev ftest-v2"), ip("route", "get", "10.77.2.2"));
            assertTrue(ip("-n", "ftest-b", "route", "get", LabNetwork.HUB).contains("via 10.77.2.1"),
                    ip("-n", "ftest-b", "route", "get", LabNetwork.HUB));
            assertTrue(ip("-n", "ftest-b", "link", "show", "lo").contains(",UP"), "lo up in the host");
            // a process entered into host a lives in its namespace
            Process p = new ProcessBuilder(concat(a.enter(), List.of("sleep", "30"))).start();
            try {
                Await.until("sleep started", () -> !LabNetwork.netnsOf(p.pid()).orElse(own).equals(own), java.time.Duration.ofSeconds(10));
                assertEquals(a.netnsId(), LabNetwork.netnsOf(p.pid()).orElseThrow());
            } finally {
                p.destroyForcibly().waitFor();
            }
            assertThrows(IllegalArgumentException.class, () -> net.host("c"));
        } catch (Throwable t) {
            net.close();
            throw t;
        }

        // a second network of the same names finds the first one's pieces and removes them first
        try (LabNetwork again = LabNetwork.create("ftest", List.of("a", "b"))) {
            assertEquals(5, again.leftovers().size(), "made afresh: " + again.leftovers());
        }
        net.close(); // the first: its pieces are gone already; it restores ip_forward as it found it
        assertEquals(List.of(), net.leftovers(), "closed: nothing left");
        assertEquals(forwardBefore, Files.readString(IP_FORWARD).strip(), "ip_forward restored");
        net.close(); // idempotent
    }

    @Test
    void namesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> LabNetwork.create("Bad-Prefix", List.of("a")));
        assertThrows(IllegalArgumentException.class, () -> LabNetwork.create("ftest", List.of()));
    }

    private static String ip(String... args) {
        KernelFeatures.Outcome o = KernelFeatures.run(concat(List.of("ip"), List.of(args)));
        assertEquals(0, o.exitCode(), "ip " + String.join(" ", args) + ": " + o.output());
        return o.output();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> l = new java.util.ArrayList<>(a);
        l.addAll(b);
        return l;
    }
}
