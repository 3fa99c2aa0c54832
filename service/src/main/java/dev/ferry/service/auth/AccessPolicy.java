package dev.ferry.service.auth;

import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.SourceAgentGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which roles may call which RPC: a declared table from full method name
 * ({@code ferry.v1.SourceAgent/RunRound}) or whole service ({@code grpc.health.v1.Health/*}) to
 * the allowed roles. A method the table does not name is refused: a new RPC is closed until
 * someone decides who may call it. Pure and immutable.
 */
public final class AccessPolicy {

    private static final String WHOLE_SERVICE = "*";

    private final Map<String, Set<Role>> allowed;

    private AccessPolicy(Map<String, Set<Role>> allowed) {
        this.allowed = Map.copyOf(allowed);
    }

    /** Ferry's policy for every RPC of the agent and coordinator contracts. */
    public static AccessPolicy ferry() {
        Builder b = new Builder();
        // Only coordinators drive agents, as source and as destination (rounds, freeze, dump,
        // resume, kill, restore, discard) and ask them to describe themselves.
        b.service(SourceAgentGrpc.getServiceDescriptor(), Role.COORDINATOR);
        b.service(DestinationAgentGrpc.getServiceDescriptor(), Role.COORDINATOR);
        // Only agents push pages and images; the destination additionally checks the
        // migration's one-time stream token (see StreamToken).
        b.service(PageStreamGrpc.getServiceDescriptor(), Role.AGENT);
        // Only operators change migrations; viewers (and operators) look.
        b.method(CoordinatorGrpc.getStartMigrationMethod(), Role.OPERATOR);
        b.method(CoordinatorGrpc.getCancelMigrationMethod(), Role.OPERATOR);
        b.method(CoordinatorGrpc.getWatchMigrationMethod(), Role.OPERATOR, Role.VIEWER);
        b.method(CoordinatorGrpc.getGetMigrationMethod(), Role.OPERATOR, Role.VIEWER);
        b.method(CoordinatorGrpc.getListMigrationsMethod(), Role.OPERATOR, Role.VIEWER);
        b.method(CoordinatorGrpc.getListAgentsMethod(), Role.OPERATOR, Role.VIEWER);
        // Standard health checking reveals nothing: any authenticated peer may ask.
        b.serviceName("grpc.health.v1.Health", Role.values());
        return b.build();
    }

    /** The roles allowed to call a method; empty if the table does not name it. */
    public Set<Role> allowedRoles(String fullMethodName) {
        Set<Role> exact = allowed.get(fullMethodName);
        if (exact != null) {
            return exact;
        }
        String service = MethodDescriptor.extractFullServiceName(fullMethodName);
        return service == null ? Set.of() : allowed.getOrDefault(service + "/" + WHOLE_SERVICE, Set.of());
    }

    /** Why {@code identity} may not call {@code fullMethodName}, or empty if it may. */
    public Optional<String> refusal(String fullMethodName, PeerIdentity identity) {
        Set<Role> roles = allowedRoles(fullMethodName);
        if (roles.isEmpty()) {
            return Optional.of(fullMethodName + " is not open to any role (no access policy names it)");
        }
        for (Role role : identity.roles()) {
            if (roles.contains(role)) {
                return Optional.empty();
            }
        }
        String held = identity.roles().isEmpty() ? "no ferry-role" : "role " + identity.roles().stream().map(Role::label).sorted().toList();
        return Optional.of(identity.commonName() + " (" + held + ") may not call " + fullMethodName
                + "; allowed: " + roles.stream().map(Role::label).sorted().toList());
    }

    /** Builds a policy table; the last entry for a name wins. */
    public static final class Builder {
        private final Map<String, Set<Role>> allowed = new LinkedHashMap<>();

        public Builder method(MethodDescriptor<?, ?> method, Role... roles) {
            return name(method.getFullMethodName(), roles);
        }

        public Builder service(ServiceDescriptor service, Role... roles) {
            return serviceName(service.getName(), roles);
        }

        public Builder serviceName(String fullServiceName, Role... roles) {
            return name(fullServiceName + "/" + WHOLE_SERVICE, roles);
        }

        public Builder name(String fullMethodName, Role... roles) {
            if (roles.length == 0) {
                throw new IllegalArgumentException("an access rule needs at least one role: " + fullMethodName);
            }
            allowed.put(fullMethodName, EnumSet.of(roles[0], roles));
            return this;
        }

        public AccessPolicy build() {
            return new AccessPolicy(allowed);
        }
    }
}
