package dev.ferry.service.tls;

import dev.ferry.service.auth.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A whole development cluster's certificates in one call (for bin/ferry-demo, tests and
 * {@code ferry-certs dev}): a CA (reused if {@code dir} has one), one agent certificate per host,
 * and one each for the coordinator, an operator and a viewer. Every certificate also names
 * localhost, 127.0.0.1 and ::1 so a one-machine cluster verifies host names on loopback.
 *
 * <pre>
 *   DevCertificates certs = DevCertificates.createAll(dir, "host1", "host2");
 *   TransportSecurity agent1 = TransportSecurity.mutualTls(certs.agent("host1"));
 *   TransportSecurity cli = TransportSecurity.mutualTls(certs.operator());
 * </pre>
 */
public record DevCertificates(Path dir) {

    public static final String COORDINATOR = "coordinator";
    public static final String OPERATOR = "operator";
    public static final String VIEWER = "viewer";
    public static final Duration CA_VALIDITY = Duration.ofDays(365);
    public static final Duration LEAF_VALIDITY = Duration.ofDays(90);

    /** Creates (or replaces) the certificates; the CA in {@code dir} is reused if present. */
    public static DevCertificates createAll(Path dir, String... hosts) {
        try {
            CertificateAuthority ca;
            if (CertificateAuthority.existsIn(dir)) {
                ca = CertificateAuthority.load(dir);
            } else {
                ca = CertificateAuthority.create("Ferry development CA", CA_VALIDITY);
                ca.writeTo(dir, false);
            }
            Set<String> everyHost = new LinkedHashSet<>(List.of(hosts));
            for (String host : hosts) {
                ca.issue(CertificateRequest.of(host, Role.AGENT, dnsNames(host), loopback(), LEAF_VALIDITY)).writeTo(dir, true);
            }
            List<String> coordinatorNames = new ArrayList<>(everyHost);
            coordinatorNames.add("localhost");
            ca.issue(CertificateRequest.of(COORDINATOR, Role.COORDINATOR, coordinatorNames, loopback(), LEAF_VALIDITY)).writeTo(dir, true);
            ca.issue(CertificateRequest.of(OPERATOR, Role.OPERATOR, List.of("localhost"), loopback(), LEAF_VALIDITY)).writeTo(dir, true);
            ca.issue(CertificateRequest.of(VIEWER, Role.VIEWER, List.of("localhost"), loopback(), LEAF_VALIDITY)).writeTo(dir, true);
            return new DevCertificates(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write development certificates to " + dir + ": " + e.getMessage(), e);
        }
    }

    public TlsFiles agent(String host) {
        return TlsFiles.inDirectory(dir, host);
    }

    public TlsFiles coordinator() {
        return TlsFiles.inDirectory(dir, COORDINATOR);
    }

    public TlsFiles operator() {
        return TlsFiles.inDirectory(dir, OPERATOR);
    }

    public TlsFiles viewer() {
        return TlsFiles.inDirectory(dir, VIEWER);
    }

    private static List<String> dnsNames(String host) {
        return host.equals("localhost") ? List.of("localhost") : List.of(host, "localhost");
    }

    private static List<String> loopback() {
        return List.of("127.0.0.1", "::1");
    }
}
