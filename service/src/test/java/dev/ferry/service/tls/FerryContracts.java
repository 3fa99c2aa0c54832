package dev.ferry.service.tls;

import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.SourceAgentGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.ArrayList;
import java.util.List;

/** Every service and method of Ferry's gRPC contracts, read from the generated descriptors. */
final class FerryContracts {

    static final List<ServiceDescriptor> SERVICES = List.of(
            SourceAgentGrpc.getServiceDescriptor(),
            DestinationAgentGrpc.getServiceDescriptor(),
            PageStreamGrpc.getServiceDescriptor(),
            CoordinatorGrpc.getServiceDescriptor());

    private FerryContracts() {
    }

    static List<MethodDescriptor<?, ?>> methods() {
        List<MethodDescriptor<?, ?>> out = new ArrayList<>();
        for (ServiceDescriptor s : SERVICES) {
            out.addAll(s.getMethods());
        }
        return out;
    }
}
