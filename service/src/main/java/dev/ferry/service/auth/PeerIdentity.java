package dev.ferry.service.auth;

import io.grpc.Context;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Who is calling: the common name of the peer's certificate (a host name for agents, a person or
 * tool for operators) and the roles its certificate carries. Services read it with
 * {@link #current()}; the {@link AuthorizationInterceptor} puts it in the gRPC {@link Context}.
 *
 * @param commonName CN of the certificate subject, "" if none
 * @param subject    the whole subject DN, for logs
 * @param roles      the {@code ferry-role:} SAN URIs of the certificate (unknown ones ignored)
 * @param verified   false only for the explicit insecure mode, where nobody is authenticated
 */
public record PeerIdentity(String commonName, String subject, Set<Role> roles, boolean verified) {

    /** The identity of the current call, set by {@link AuthorizationInterceptor}. */
    public static final Context.Key<PeerIdentity> CONTEXT_KEY = Context.key("ferry-peer-identity");

    /** SAN entry type of a uniformResourceIdentifier (RFC 5280 GeneralName tag 6). */
    private static final int SAN_URI = 6;

    public PeerIdentity {
        roles = roles.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(roles));
    }

    /**
     * In insecure mode every caller is this unauthenticated identity with every role: the server
     * has been told explicitly not to check (and logged a warning saying so).
     */
    public static PeerIdentity insecure() {
        return new PeerIdentity("insecure", "(plaintext, not authenticated)", EnumSet.allOf(Role.class), false);
    }

    /** The identity a verified peer certificate states. */
    public static PeerIdentity of(X509Certificate certificate) {
        String subject = certificate.getSubjectX500Principal().getName();
        return new PeerIdentity(commonName(subject), subject, rolesOf(certificate), true);
    }

    /** The identity of the gRPC call running on this thread, if the interceptor set one. */
    public static Optional<PeerIdentity> current() {
        return Optional.ofNullable(CONTEXT_KEY.get());
    }

    public boolean has(Role role) {
        return roles.contains(role);
    }

    /** For log lines and error descriptions: {@code host1 [agent]}. */
    public String describe() {
        return (commonName.isEmpty() ? subject : commonName) + " " + roles.stream().map(Role::label).sorted().toList();
    }

    static Set<Role> rolesOf(X509Certificate certificate) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return roles; // an unparsable SAN extension grants nothing
        }
        if (names == null) {
            return roles;
        }
        for (List<?> name : names) {
            if (name.size() == 2 && Integer.valueOf(SAN_URI).equals(name.get(0)) && name.get(1) instanceof String uri) {
                Role.fromUri(uri).ifPresent(roles::add);
            }
        }
        return roles;
    }

    static String commonName(String subjectDn) {
        try {
            List<Rdn> rdns = new LdapName(subjectDn).getRdns();
            // LdapName lists RDNs right to left; the most specific CN is the last one found.
            String cn = "";
            for (Rdn rdn : rdns) {
                if ("CN".equalsIgnoreCase(rdn.getType())) {
                    cn = String.valueOf(rdn.getValue());
                }
            }
            return cn;
        } catch (InvalidNameException e) {
            return "";
        }
    }
}
