package dev.ferry.cli.connect;

import dev.ferry.cli.CliFailure;
import dev.ferry.proto.AgentStatus;
import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.ListAgentsRequest;
import dev.ferry.proto.ListMigrationsRequest;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.StartMigrationRequest;
import dev.ferry.proto.WatchMigrationRequest;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The CLI's view of a coordinator: every unary call has a deadline; every failure becomes a
 * {@link CliFailure} with a one-line message. Thread-safe (gRPC stubs are).
 */
public final class CoordinatorClient implements AutoCloseable {
    private final CoordinatorAddress address;
    private final Deadlines deadlines;
    private final ManagedChannel channel;
    private final CoordinatorGrpc.CoordinatorBlockingStub stub;

    public CoordinatorClient(CoordinatorAddress address, Deadlines deadlines, ChannelCredentials credentials) {
        this.address = address;
        this.deadlines = deadlines;
        this.channel = Channels.toCoordinator(address, credentials);
        this.stub = CoordinatorGrpc.newBlockingStub(channel);
    }

    public CoordinatorAddress address() {
        return address;
    }

    public MigrationInfo start(StartMigrationRequest request) {
        return call("start the migration", () -> stubWithin(deadlines.start()).startMigration(request));
    }

    public MigrationInfo get(String migrationId) {
        return call("get migration " + migrationId, () -> stubWithin(deadlines.query()).getMigration(ref(migrationId)));
    }

    public List<MigrationInfo> list(boolean includeFinished, int limit) {
        ListMigrationsRequest request = ListMigrationsRequest.newBuilder()
                .setIncludeFinished(includeFinished).setLimit(limit).build();
        return call("list migrations", () -> stubWithin(deadlines.query()).listMigrations(request).getMigrationsList());
    }

    public MigrationInfo cancel(String migrationId) {
        return call("cancel migration " + migrationId, () -> stubWithin(deadlines.cancel()).cancelMigration(ref(migrationId)));
    }

    public List<AgentStatus> agents() {
        return call("list agents", () -> stubWithin(deadlines.query()).listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList());
    }

    /**
     * Opens the migration's event stream. No deadline: it lasts as long as the migration; the
     * reader learns of a lost coordinator from the stream's UNAVAILABLE.
     */
    public EventStream watch(String migrationId, boolean replay) {
        WatchMigrationRequest request = WatchMigrationRequest.newBuilder()
                .setMigrationId(migrationId).setReplay(replay).build();
        Context.CancellableContext context = Context.current().withCancellation();
        try {
            Iterator<MigrationEvent> events = context.call(() -> stub.watchMigration(request));
            return new EventStream(context, events);
        } catch (StatusRuntimeException e) {
            context.cancel(null);
            throw failure("watch migration " + migrationId, e);
        } catch (Exception e) {
            context.cancel(null);
            throw new IllegalStateException(e);
        }
    }

    /** The operator's error for a status seen while reading a stream. */
    public CliFailure failure(String what, StatusRuntimeException e) {
        return StatusFailures.from(what, address, e);
    }

    private CoordinatorGrpc.CoordinatorBlockingStub stubWithin(Duration deadline) {
        return stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
    }

    private <T> T call(String what, Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw StatusFailures.from(what, address, e);
        }
    }

    private static MigrationRef ref(String migrationId) {
        return MigrationRef.newBuilder().setMigrationId(migrationId).build();
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
