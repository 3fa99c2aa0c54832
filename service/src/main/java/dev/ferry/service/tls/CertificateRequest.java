package dev.ferry.service.tls;

import dev.ferry.service.auth.Role;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What a leaf certificate states: the holder's name (CN; for an agent, its host name as
 * registered in ZooKeeper), its role, the DNS names and IP addresses it serves under, and its
 * validity interval (a past interval makes an expired certificate, for tests).
 */
public record CertificateRequest(String name, Role role, List<String> dnsNames, List<String> ipAddresses,
                                 Instant notBefore, Instant notAfter) {

    public CertificateRequest {
        if (name.isBlank() || name.contains(",") || name.contains("=") || name.contains("/")) {
            throw new IllegalArgumentException("certificate name must be a plain name (no ',', '=', '/'): '" + name + "'");
        }
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("notAfter " + notAfter + " must be after notBefore " + notBefore);
        }
        dnsNames = List.copyOf(dnsNames);
        ipAddresses = List.copyOf(ipAddresses);
    }

    /** Valid from a minute ago (clock skew) for {@code validity}. */
    public static CertificateRequest of(String name, Role role, List<String> dnsNames, List<String> ipAddresses, Duration validity) {
        Instant now = Instant.now();
        return new CertificateRequest(name, role, dnsNames, ipAddresses, now.minus(Duration.ofMinutes(1)), now.plus(validity));
    }

    public CertificateRequest withValidity(Instant from, Instant to) {
        return new CertificateRequest(name, role, dnsNames, ipAddresses, from, to);
    }
}
