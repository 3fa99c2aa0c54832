package dev.ferry.cli.attach;

import dev.ferry.cli.render.Recorded;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.AgentStatus;
import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.ListAgentsReply;
import dev.ferry.proto.ListAgentsRequest;
import dev.ferry.proto.ListMigrationsReply;
import dev.ferry.proto.ListMigrationsRequest;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.Phase;
import dev.ferry.proto.PhaseEvent;
import dev.ferry.proto.StartMigrationRequest;
import dev.ferry.proto.WatchMigrationRequest;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Serves the Coordinator contract over real gRPC on loopback from one recorded migration
 * ({@link Recorded#done()}), releasing an event every {@code pace} ms, so the CLI's terminal
 * behaviour (live table, Ctrl-C, detach, re-attach) can be tested deterministically. It is a
 * recording, not a coordinator: validation, policy and state are tested against the real one.
 * Cancel before the end turns the rest of the recording into a rollback.
 */
public final class RecordedCoordinator extends CoordinatorGrpc.CoordinatorImplBase implements AutoCloseable {
    private final List<MigrationEvent> recording;
    private final long paceMillis;
    private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "recorded-coordinator");
        t.setDaemon(true);
        return t;
    });
    private final List<MigrationEvent> released = new ArrayList<>(); // guarded by this
    private final List<ServerCallStreamObserver<MigrationEvent>> watchers = new ArrayList<>(); // guarded by this
    private volatile Server server;
    private boolean started;
    private boolean ended;
    private int cursor;

    public RecordedCoordinator(long paceMillis) throws IOException {
        this.recording = Recorded.done();
        this.paceMillis = paceMillis;
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
                .addService(this).build().start();
    }

    public int port() {
        return server.getPort();
    }

    /**
     * Restarts the gRPC server on the same port: open streams end with UNAVAILABLE, as when a
     * coordinator restarts; the recording goes on.
     */
    public void restart() throws IOException, InterruptedException {
        int port = server.getPort();
        synchronized (this) {
            watchers.clear();
        }
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), InsecureServerCredentials.create())
                .addService(this).build().start();
    }

    /** Releases events now, as if the migration had been started (for watch-only tests). */
    public synchronized void begin() {
        if (!started) {
            started = true;
            clock.scheduleAtFixedRate(this::releaseNext, 0, paceMillis, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void releaseNext() {
        if (ended || cursor >= recording.size()) {
            return;
        }
        publish(recording.get(cursor++));
    }

    private void publish(MigrationEvent e) { // caller holds this
        released.add(e);
        ended = e.hasFinished();
        for (ServerCallStreamObserver<MigrationEvent> w : watchers) {
            if (!w.isCancelled()) {
                w.onNext(e);
                if (ended) {
                    w.onCompleted();
                }
            }
        }
        if (ended) {
            watchers.clear();
        }
    }

    private synchronized MigrationInfo info() {
        MigrationInfo base = recording.get(0).getStarted();
        for (MigrationEvent e : released) {
            if (e.hasFinished()) {
                return e.getFinished();
            }
            if (e.hasPhase()) {
                base = base.toBuilder().setPhase(e.getPhase().getPhase()).build();
            }
            if (e.hasRound()) {
                base = base.toBuilder().setRound(e.getRound().getFigures().getRound()).build();
            }
        }
        return base;
    }

    @Override
    public void startMigration(StartMigrationRequest request, StreamObserver<MigrationInfo> reply) {
        // The recording starts playing when the CLI attaches (watch), not here: a slow JVM
        // between the two calls would otherwise get everything as replay at once.
        reply.onNext(recording.get(0).getStarted());
        reply.onCompleted();
    }

    @Override
    public void watchMigration(WatchMigrationRequest request, StreamObserver<MigrationEvent> reply) {
        if (!request.getMigrationId().equals("m-0001")) {
            reply.onError(Status.NOT_FOUND.withDescription("no migration " + request.getMigrationId()).asRuntimeException());
            return;
        }
        ServerCallStreamObserver<MigrationEvent> w = (ServerCallStreamObserver<MigrationEvent>) reply;
        begin();
        synchronized (this) {
            released.forEach(w::onNext);
            if (ended) {
                w.onCompleted();
            } else {
                watchers.add(w);
            }
        }
    }

    @Override
    public void getMigration(MigrationRef request, StreamObserver<MigrationInfo> reply) {
        if (!request.getMigrationId().equals("m-0001")) {
            reply.onError(Status.NOT_FOUND.withDescription("no migration " + request.getMigrationId()).asRuntimeException());
            return;
        }
        reply.onNext(info());
        reply.onCompleted();
    }

    @Override
    public void cancelMigration(MigrationRef request, StreamObserver<MigrationInfo> reply) {
        synchronized (this) {
            if (ended) {
                reply.onError(Status.FAILED_PRECONDITION.withDescription("migration m-0001 already ended").asRuntimeException());
                return;
            }
            long at = released.isEmpty() ? Recorded.T0 : released.get(released.size() - 1).getAtUnixMillis() + 1;
            publish(MigrationEvent.newBuilder().setMigrationId("m-0001").setSequence(released.size()).setAtUnixMillis(at)
                    .setPhase(PhaseEvent.newBuilder().setPhase(Phase.ROLLING_BACK).setDetail("resuming pid 4242 on host1"))
                    .build());
            MigrationInfo cancelled = info().toBuilder().setPhase(Phase.CANCELLED).setReason("cancelled by the operator").build();
            publish(MigrationEvent.newBuilder().setMigrationId("m-0001").setSequence(released.size()).setAtUnixMillis(at + 2)
                    .setFinished(cancelled).build());
        }
        reply.onNext(info());
        reply.onCompleted();
    }

    @Override
    public void listMigrations(ListMigrationsRequest request, StreamObserver<ListMigrationsReply> reply) {
        reply.onNext(ListMigrationsReply.newBuilder().addMigrations(info()).build());
        reply.onCompleted();
    }

    @Override
    public void listAgents(ListAgentsRequest request, StreamObserver<ListAgentsReply> reply) {
        reply.onNext(ListAgentsReply.newBuilder()
                .addAgents(AgentStatus.newBuilder().setHealthy(true).setCapabilities(AgentCapabilities.newBuilder()
                        .setHost("host1").setAddress("127.0.0.1:7101").setKernel("6.1.0").setSoftDirty(true)
                        .setCriuVersion("3.17.1").setCriuUsable(true).setFreeDiskBytes(50L << 30)))
                .build());
        reply.onCompleted();
    }

    @Override
    public void close() {
        clock.shutdownNow();
        server.shutdownNow();
    }

    /** For a terminal test: {@code RecordedCoordinator <paceMillis> <portFile>}. */
    public static void main(String[] args) throws Exception {
        RecordedCoordinator c = new RecordedCoordinator(Long.parseLong(args[0]));
        java.nio.file.Files.writeString(java.nio.file.Path.of(args[1] + ".tmp"), Integer.toString(c.port()));
        java.nio.file.Files.move(java.nio.file.Path.of(args[1] + ".tmp"), java.nio.file.Path.of(args[1]));
        c.server.awaitTermination();
    }
}
