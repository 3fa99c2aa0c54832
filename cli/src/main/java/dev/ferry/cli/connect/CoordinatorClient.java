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
import dev.ferry.service.leader.LeaderHint;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The CLI's view of a coordinator: every unary call has a deadline; every failure becomes a
 * {@link CliFailure} with a one-line message. A coordinator that is not the leader answers calls
 * that change a migration with UNAVAILABLE naming the leader ({@link LeaderHint}): the client
 * then switches to that leader, once per client (no redirect loops), and repeats the call.
 * Thread-safe (gRPC stubs are; the switch is synchronized and published through a volatile).
 */
public final class CoordinatorClient implements AutoCloseable {
    private record Connection(CoordinatorAddress address, ManagedChannel channel, CoordinatorGrpc.CoordinatorBlockingStub stub) {
        static Connection to(CoordinatorAddress address, ChannelCredentials credentials) {
            ManagedChannel channel = Channels.toCoordinator(address, credentials);
            return new Connection(address, channel, CoordinatorGrpc.newBlockingStub(channel));
        }
    }

    private final Deadlines deadlines;
    private final ChannelCredentials credentials;
    private volatile Connection connection;
    private boolean redirected; // guarded by this
    private boolean closed; // guarded by this

    public CoordinatorClient(CoordinatorAddress address, Deadlines deadlines, ChannelCredentials credentials) {
        this.deadlines = deadlines;
        this.credentials = credentials;
        this.connection = Connection.to(address, credentials);
    }

    /** The coordinator talked to now: the one asked, or the leader it named. */
    public CoordinatorAddress address() {
        return connection.address();
    }

    public MigrationInfo start(StartMigrationRequest request) {
        return call("start the migration", ready -> stubWithin(deadlines.start(), ready).startMigration(request));
    }

    public MigrationInfo get(String migrationId) {
        return call("get migration " + migrationId, ready -> stubWithin(deadlines.query(), ready).getMigration(ref(migrationId)));
    }

    public List<MigrationInfo> list(boolean includeFinished, int limit) {
        ListMigrationsRequest request = ListMigrationsRequest.newBuilder()
                .setIncludeFinished(includeFinished).setLimit(limit).build();
        return call("list migrations", ready -> stubWithin(deadlines.query(), ready).listMigrations(request).getMigrationsList());
    }

    public MigrationInfo cancel(String migrationId) {
        return call("cancel migration " + migrationId, ready -> stubWithin(deadlines.cancel(), ready).cancelMigration(ref(migrationId)));
    }

    public List<AgentStatus> agents() {
        return call("list agents", ready -> stubWithin(deadlines.query(), ready).listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList());
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
            Iterator<MigrationEvent> events = context.call(() -> connection.stub().watchMigration(request));
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
        return StatusFailures.from(what, address(), e);
    }

    /** {@code waitForReady}: wait (within the deadline) for the channel's next connection attempt. */
    private CoordinatorGrpc.CoordinatorBlockingStub stubWithin(Duration deadline, boolean waitForReady) {
        CoordinatorGrpc.CoordinatorBlockingStub stub = connection.stub().withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
        return waitForReady ? stub.withWaitForReady() : stub;
    }

    /**
     * Runs {@code rpc} (its argument: wait for the channel to become ready); again on the leader
     * if the coordinator asked named another one. (A TLS handshake that timed out is repeated by
     * the channel itself: {@link Channels}.)
     */
    private <T> T call(String what, Function<Boolean, T> rpc) {
        try {
            return rpc.apply(false);
        } catch (StatusRuntimeException e) {
            if (!follow(e)) {
                throw StatusFailures.from(what, address(), e);
            }
        }
        try {
            return rpc.apply(true);
        } catch (StatusRuntimeException e) {
            throw StatusFailures.from(what, address(), e);
        }
    }

    /** Switches to the leader named by {@code failure}; false if none, the same, or already redirected once. */
    private boolean follow(StatusRuntimeException failure) {
        Optional<CoordinatorAddress> leader;
        try {
            leader = LeaderHint.of(failure).map(CoordinatorAddress::parse);
        } catch (RuntimeException malformed) {
            return false;
        }
        Connection old;
        synchronized (this) {
            if (closed || redirected || leader.isEmpty() || leader.get().equals(connection.address())) {
                return false;
            }
            redirected = true;
            old = connection;
            connection = Connection.to(leader.get(), credentials);
        }
        // graceful: a watch stream still open on the old coordinator (which serves reads) runs on
        old.channel().shutdown();
        return true;
    }

    private static MigrationRef ref(String migrationId) {
        return MigrationRef.newBuilder().setMigrationId(migrationId).build();
    }

    @Override
    public void close() {
        ManagedChannel channel;
        synchronized (this) {
            closed = true;
            channel = connection.channel();
        }
        channel.shutdownNow();
        try {
            channel.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
