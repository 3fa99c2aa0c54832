package dev.ferry.service.auth;

import java.util.Locale;
import java.util.Optional;

/**
 * What a certificate holder may do in a Ferry cluster. A certificate carries its role as a
 * subject-alternative-name URI {@code ferry-role:<name>} (see {@link #uri()}); the CA signs it,
 * so a peer cannot pick its own role.
 */
public enum Role {
    /** A host agent: calls other agents' PageStream (with the migration's one-time token). */
    AGENT,
    /** A coordinator: drives source and destination agents. */
    COORDINATOR,
    /** A human or tool allowed to start and cancel migrations (and to view). */
    OPERATOR,
    /** A human or tool allowed only to list, watch and get migrations and agents. */
    VIEWER;

    /** URI scheme of the subject-alternative-name entry that carries a role. */
    public static final String URI_SCHEME = "ferry-role";

    /** Lower-case name as typed on command lines and written in certificates, e.g. "agent". */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The SAN URI naming this role, e.g. {@code ferry-role:agent}. */
    public String uri() {
        return URI_SCHEME + ":" + label();
    }

    /** The role a label names ("agent", case-insensitive), if any. */
    public static Optional<Role> fromLabel(String label) {
        for (Role role : values()) {
            if (role.label().equalsIgnoreCase(label.trim())) {
                return Optional.of(role);
            }
        }
        return Optional.empty();
    }

    /** The role a SAN URI names ({@code ferry-role:agent}), if it is one of ours. */
    public static Optional<Role> fromUri(String uri) {
        String prefix = URI_SCHEME + ":";
        if (uri.length() <= prefix.length() || !uri.regionMatches(true, 0, prefix, 0, prefix.length())) {
            return Optional.empty();
        }
        return fromLabel(uri.substring(prefix.length()));
    }
}
