package dev.ferry.service.tls;

import dev.ferry.service.auth.PeerIdentity;
import dev.ferry.service.auth.Role;
import dev.ferry.service.zookeeper.ZooKeeperCredentials;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bin/ferry-certs}: a development CA and per-host/per-role certificates as PEM files.
 * <pre>
 *   ferry-certs init  --dir certs
 *   ferry-certs issue --dir certs --role agent --name host1 --dns host1 --dns localhost --ip 127.0.0.1
 *   ferry-certs dev   --dir certs host1 host2      (CA + every certificate a one-machine cluster needs)
 *   ferry-certs show  certs/host1.crt
 *   ferry-certs zk-secret --file /etc/ferry/zk-secret   (ZooKeeper digest identity for --zk-secret)
 * </pre>
 */
@Command(name = "ferry-certs", mixinStandardHelpOptions = true, version = "ferry-certs 0.1",
        description = "Creates a development CA and role certificates (PEM) for Ferry's mutual TLS.",
        subcommands = {CertsMain.Init.class, CertsMain.Issue.class, CertsMain.Dev.class, CertsMain.Show.class, CertsMain.ZkSecret.class})
public final class CertsMain implements Runnable {

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        return new CommandLine(new CertsMain()).setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("ferry-certs: " + e.getMessage());
            return 1;
        }).execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: init, issue, dev, show or zk-secret");
    }

    @Command(name = "init", description = "Creates a CA (ca.crt, ca.key) in --dir.")
    static final class Init implements Callable<Integer> {
        @Option(names = "--dir", required = true) Path dir;
        @Option(names = "--name", defaultValue = "Ferry development CA") String name;
        @Option(names = "--days", defaultValue = "365") int days;
        @Option(names = "--force", description = "Replace an existing CA (every certificate it signed stops working).") boolean force;
        @Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (CertificateAuthority.existsIn(dir) && !force) {
                spec.commandLine().getErr().println("ferry-certs: " + dir + " already has a CA; --force replaces it");
                return 1;
            }
            CertificateAuthority ca = CertificateAuthority.create(name, Duration.ofDays(days));
            ca.writeTo(dir, force);
            spec.commandLine().getOut().println("CA " + ca.certificate().getSubjectX500Principal() + " -> "
                    + dir.resolve(TlsFiles.CA_CERTIFICATE) + ", " + dir.resolve(CertificateAuthority.CA_KEY) + " (keep it secret)");
            return 0;
        }
    }

    @Command(name = "issue", description = "Issues a certificate and key (NAME.crt, NAME.key) signed by the CA in --dir.")
    static final class Issue implements Callable<Integer> {
        @Option(names = "--dir", required = true) Path dir;
        @Option(names = "--role", required = true, description = "agent, coordinator, operator or viewer") String role;
        @Option(names = "--name", required = true, description = "CN: the host name for an agent, else a person or tool") String name;
        @Option(names = "--dns", description = "DNS name this holder serves under (repeatable)") List<String> dns = new ArrayList<>();
        @Option(names = "--ip", description = "IP address this holder serves under (repeatable)") List<String> ips = new ArrayList<>();
        @Option(names = "--days", defaultValue = "90") int days;
        @Option(names = "--force", description = "Replace existing NAME.crt/NAME.key.") boolean force;
        @Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Role parsed = Role.fromLabel(role).orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                    "unknown role '" + role + "': agent, coordinator, operator or viewer"));
            CertificateAuthority ca = CertificateAuthority.load(dir);
            TlsFiles files = ca.issue(CertificateRequest.of(name, parsed, dns, ips, Duration.ofDays(days))).writeTo(dir, force);
            spec.commandLine().getOut().println(parsed.label() + " certificate for " + name + " -> " + files.certificateChain() + ", " + files.privateKey());
            return 0;
        }
    }

    @Command(name = "dev", description = "CA (reused if present) + agent certificate per HOST + coordinator, operator, viewer.")
    static final class Dev implements Callable<Integer> {
        @Option(names = "--dir", required = true) Path dir;
        @Parameters(paramLabel = "HOST", arity = "1..*", description = "agent host names") List<String> hosts;
        @Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            DevCertificates.createAll(dir, hosts.toArray(String[]::new));
            spec.commandLine().getOut().println("development certificates for agents " + hosts + ", coordinator, operator, viewer in " + dir);
            return 0;
        }
    }

    @Command(name = "show", description = "Prints subject, roles, names and validity of certificates.")
    static final class Show implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", arity = "1..*") List<Path> files;
        @Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            for (Path file : files) {
                for (X509Certificate c : TlsContexts.readCertificates(file)) {
                    PeerIdentity id = PeerIdentity.of(c);
                    out.println(file + ": " + c.getSubjectX500Principal());
                    out.println("  roles: " + id.roles().stream().map(Role::label).sorted().toList());
                    out.println("  names: " + (c.getSubjectAlternativeNames() == null ? "[]" : c.getSubjectAlternativeNames()));
                    out.println("  valid: " + c.getNotBefore().toInstant() + " .. " + c.getNotAfter().toInstant());
                    out.println("  issuer: " + c.getIssuerX500Principal());
                }
            }
            return 0;
        }
    }

    @Command(name = "zk-secret", description = "Writes a new ZooKeeper secret file (user:random password, mode 0600) for --zk-secret.")
    static final class ZkSecret implements Callable<Integer> {
        @Option(names = "--file", required = true, description = "Where to write it; an existing file is never replaced.") Path file;
        @Option(names = "--user", defaultValue = ZooKeeperCredentials.DEFAULT_USER, description = "Digest user name (default: ${DEFAULT-VALUE}).") String user;
        @Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            ZooKeeperCredentials.createSecretFile(file, user);
            spec.commandLine().getOut().println("ZooKeeper secret for user " + user + " -> " + file
                    + " (mode 0600; copy it to every coordinator and agent, pass --zk-secret " + file + ")");
            return 0;
        }
    }
}
