package dev.ferry.service.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.SourceAgentGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AccessPolicyTest {

    private final AccessPolicy policy = AccessPolicy.ferry();

    @Test
    void everyRpcOfEveryFerryServiceHasAnOwner() {
        for (ServiceDescriptor s : List.of(SourceAgentGrpc.getServiceDescriptor(), DestinationAgentGrpc.getServiceDescriptor(),
                PageStreamGrpc.getServiceDescriptor(), CoordinatorGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> m : s.getMethods()) {
                assertFalse(policy.allowedRoles(m.getFullMethodName()).isEmpty(), m.getFullMethodName());
            }
        }
    }

    @Test
    void theIssuesRules() {
        assertEquals(Set.of(Role.COORDINATOR), policy.allowedRoles(SourceAgentGrpc.getRunRoundMethod().getFullMethodName()));
        assertEquals(Set.of(Role.COORDINATOR), policy.allowedRoles(SourceAgentGrpc.getKillSourceMethod().getFullMethodName()));
        assertEquals(Set.of(Role.COORDINATOR), policy.allowedRoles(DestinationAgentGrpc.getPrepareReceiveMethod().getFullMethodName()));
        assertEquals(Set.of(Role.AGENT), policy.allowedRoles(PageStreamGrpc.getPushRoundMethod().getFullMethodName()));
        assertEquals(Set.of(Role.OPERATOR), policy.allowedRoles(CoordinatorGrpc.getStartMigrationMethod().getFullMethodName()));
        assertEquals(Set.of(Role.OPERATOR), policy.allowedRoles(CoordinatorGrpc.getCancelMigrationMethod().getFullMethodName()));
        assertEquals(Set.of(Role.OPERATOR, Role.VIEWER), policy.allowedRoles(CoordinatorGrpc.getWatchMigrationMethod().getFullMethodName()));
        assertEquals(Set.of(Role.OPERATOR, Role.VIEWER), policy.allowedRoles(CoordinatorGrpc.getListAgentsMethod().getFullMethodName()));
    }

    @Test
    void unknownMethodsAreClosed() {
        PeerIdentity all = new PeerIdentity("x", "CN=x", Set.of(Role.values()), true);
        assertTrue(policy.refusal("grpc.reflection.v1.ServerReflection/ServerReflectionInfo", all).isPresent());
        assertTrue(policy.refusal("ferry.v1.SourceAgent/SomethingNew", all).isEmpty(), "service-wide rule covers a new agent RPC");
        assertTrue(policy.refusal("ferry.v1.Coordinator/SomethingNew", all).isPresent(), "the coordinator is listed per method");
        assertTrue(policy.refusal("garbage", all).isPresent());
    }

    @Test
    void aCertificateWithoutRoleGetsNothing() {
        PeerIdentity none = new PeerIdentity("nobody", "CN=nobody", Set.of(), true);
        String why = policy.refusal(CoordinatorGrpc.getListMigrationsMethod().getFullMethodName(), none).orElseThrow();
        assertTrue(why.contains("no ferry-role"), why);
    }

    @Test
    void rolesParseOnlyFromTheirUri() {
        assertEquals(Role.AGENT, Role.fromUri("ferry-role:agent").orElseThrow());
        assertEquals(Role.OPERATOR, Role.fromUri("FERRY-ROLE:Operator").orElseThrow());
        assertTrue(Role.fromUri("ferry-role:root").isEmpty());
        assertTrue(Role.fromUri("https://ferry-role:agent").isEmpty());
        assertTrue(Role.fromUri("ferry-role:").isEmpty());
        assertEquals("host1", PeerIdentity.commonName("CN=host1,OU=agent,O=Ferry"));
        assertEquals("", PeerIdentity.commonName("O=Ferry"));
    }
}
