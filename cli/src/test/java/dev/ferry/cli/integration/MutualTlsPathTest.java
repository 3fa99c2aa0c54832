package dev.ferry.cli.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.Agent;
import dev.ferry.cli.ExitCode;
import dev.ferry.cli.CliRun;
import dev.ferry.cli.connect.ClientSecurity;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.service.tls.DevCertificates;
import dev.ferry.service.tls.TransportSecurity;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole chain over mutual TLS, every hop authenticated by its certificate's role: the CLI
 * (operator certificate) to a real coordinator, the coordinator to two real agents, the source
 * agent's page stream to the destination agent (with the migration's stream token), for a dry
 * run of a real workload. Viewers may look but not start; an agent certificate may not use the
 * CLI; no certificate is a one-line error.
 */
@Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
class MutualTlsPathTest {
    private static final Pattern ROW = Pattern.compile("^\\s+(\\d+)\\s+([\\d,]+)\\s+([\\d.]+) (B|KiB|MiB|GiB)\\s+.*");

    @TempDir
    static Path dir;
    static Path certsDir;
    static EmbeddedZooKeeper zk;
    static Agent host1;
    static Agent host2;
    static Coordinator coordinator;

    static CliRun migrate(String... args) {
        return CliRun.of(CliRun.plus(args, "--coordinator", coordinator.address()));
    }

    @BeforeAll
    static void cluster() throws Exception {
        certsDir = dir.resolve("certs");
        DevCertificates certs = DevCertificates.createAll(certsDir, "host1", "host2");
        zk = EmbeddedZooKeeper.start();
        host1 = LoopbackParts.agent("host1", dir, zk, TransportSecurity.mutualTls(certs.agent("host1")));
        host2 = LoopbackParts.agent("host2", dir, zk, TransportSecurity.mutualTls(certs.agent("host2")));
        assertTrue(host1.awaitRegistered(Duration.ofSeconds(60)) && host2.awaitRegistered(Duration.ofSeconds(60)));
        coordinator = LoopbackParts.coordinator(zk, TransportSecurity.mutualTls(certs.coordinator()));
        LoopbackParts.awaitLeaderListingBoth(coordinator, Duration.ofSeconds(60), "--certs", certsDir.toString());
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {coordinator, host1, host2, zk}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void anOperatorDryRunCrossesEveryHopOverMutualTls() throws Exception {
        try (Workload w = Workload.memtouch().sizeMib(16).ratePagesPerSecond(500).start()) {
            w.awaitOkLines(1, Duration.ofSeconds(30));
            // --certs DIR without --cert-name: the CLI takes operator.crt (before viewer.crt)
            CliRun r = migrate(Long.toString(w.pid()), "--from", "host1", "--to", "host2", "--dry-run", "--max-rounds", "3",
                    "--certs", certsDir.toString());
            assertTrue(r.code() == ExitCode.DONE || r.code() == ExitCode.WOULD_NOT_CONVERGE, r.toString());
            List<Matcher> rows = r.out().lines().map(ROW::matcher).filter(Matcher::matches).toList();
            assertTrue(!rows.isEmpty(), r.out());
            long firstDirty = Long.parseLong(rows.get(0).group(2).replace(",", ""));
            assertTrue(firstDirty >= 16 * 256 / 2, "round 1 streamed the 16 MiB workload agent to agent: " + r.out());
            assertTrue(r.out().contains("dry run: would"), r.out());
        }
    }

    @Test
    void aViewerMayLookButNotStartOrCancel() {
        CliRun agents = migrate("agents", "--certs", certsDir.toString(), "--cert-name", "viewer");
        assertEquals(ExitCode.DONE, agents.code(), agents.toString());
        assertTrue(agents.out().lines().anyMatch(l -> l.matches("host1\\s+127\\.0\\.0\\.1:\\d+\\s+ok\\s.*")), agents.out());
        assertEquals(ExitCode.DONE, migrate("list", "--certs", certsDir.toString(), "--cert-name", "viewer").code());

        CliRun start = migrate("4242", "--to", "host2", "--certs", certsDir.toString(), "--cert-name", "viewer");
        assertEquals(ExitCode.REFUSED, start.code(), start.toString());
        assertEquals(1, start.err().lines().count(), start.err());
        assertTrue(start.err().contains("may not call ferry.v1.Coordinator/StartMigration"), start.err());
        CliRun cancel = migrate("cancel", "m-1", "--certs", certsDir.toString(), "--cert-name", "viewer");
        assertEquals(ExitCode.REFUSED, cancel.code(), cancel.toString());
        assertTrue(cancel.err().contains("may not call ferry.v1.Coordinator/CancelMigration"), cancel.err());
    }

    @Test
    void anAgentCertificateMayNotUseTheCoordinatorApi() {
        CliRun r = migrate("list", "--certs", certsDir.toString(), "--cert-name", "host1");
        assertEquals(ExitCode.REFUSED, r.code(), r.toString());
        assertTrue(r.err().contains("host1 (role [agent])") && r.err().contains("may not call ferry.v1.Coordinator/ListMigrations"), r.err());
    }

    @Test
    void withoutCertificatesTheCliSaysSoInOneLine() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("no-certs"));
        CliRun r = migrate("list", "--certs", empty.toString());
        assertEquals(ExitCode.USAGE, r.code(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("migrate: no TLS certificate found") && r.err().contains(empty.toString())
                && r.err().contains("--insecure"), r.err());

        // A plaintext client cannot talk to the mTLS coordinator: unreachable, not served.
        CliRun plain = migrate("list", "--insecure");
        assertEquals(ExitCode.UNREACHABLE, plain.code(), plain.toString());
    }

    @Test
    void certificatesAreLookedForInFerryCertsThenTheUsersThenTheSystemsDirectory() {
        assertEquals(List.of(Path.of("/srv/certs"), Path.of("/home/ann/.config/ferry/certs"), Path.of("/etc/ferry/certs")),
                ClientSecurity.searchDirs(Map.of("FERRY_CERTS", "/srv/certs"), "/home/ann"));
        assertEquals(List.of(Path.of("/home/ann/.config/ferry/certs"), Path.of("/etc/ferry/certs")),
                ClientSecurity.searchDirs(Map.of(), "/home/ann"));
    }
}
