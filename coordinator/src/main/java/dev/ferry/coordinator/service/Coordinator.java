package dev.ferry.coordinator.service;

import dev.ferry.coordinator.metrics.CoordinatorMetrics;
import dev.ferry.coordinator.policy.ConvergencePolicy;
import dev.ferry.coordinator.zk.AgentDirectory;
import dev.ferry.coordinator.zk.Leadership;
import dev.ferry.coordinator.zk.MigrationStore;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.service.zookeeper.ZooKeeperCredentials;
import dev.ferry.service.zookeeper.ZooKeeperSecurity;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.retry.RetryUntilElapsed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One coordinator: a ZooKeeper client, the agent directory, leader election, the migration
 * drivers, and the gRPC server. {@link #start} once, {@link #close} once (idempotent).
 */
public final class Coordinator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Coordinator.class);

  /**
   * @param listen where to serve gRPC (port 0: any free port)
   * @param zookeeper connect string
   * @param sessionTimeout ZooKeeper session; a coordinator that is silent longer loses leadership
   * @param endpoints gRPC server/channel factory, carrying the transport security
   * @param zkCredentials Ferry's ZooKeeper digest identity: every znode is created with an ACL
   *     that only it may write (null: no ACLs, anyone reaching ZooKeeper may change Ferry's state)
   */
  public record Config(InetSocketAddress listen, String zookeeper, ZkLayout layout, Duration sessionTimeout,
      GrpcEndpoints endpoints, ZooKeeperCredentials zkCredentials) {

    /** Without ZooKeeper ACLs (tests of other concerns; a WARN at start says so). */
    public Config(InetSocketAddress listen, String zookeeper, ZkLayout layout, Duration sessionTimeout,
        GrpcEndpoints endpoints) {
      this(listen, zookeeper, layout, sessionTimeout, endpoints, null);
    }
  }

  private final Config config;
  private final CoordinatorMetrics metrics;
  private CuratorFramework zk;
  private AgentDirectory agents;
  private AgentClients clients;
  private ScheduledThreadPoolExecutor executor;
  private java.util.concurrent.ExecutorService grpcExecutor;
  private java.util.concurrent.ExecutorService roleEvents;
  private Conductor conductor;
  private Leadership leadership;
  private Server server;
  /** The bound address, fixed at start: it stays this coordinator's id (a record's driver) after close. */
  private volatile String id;
  private boolean closed;

  /** A coordinator whose metrics are kept unserved. */
  public Coordinator(Config config) {
    this(config, CoordinatorMetrics.unexposed());
  }

  /** @param metrics fed by the migrations this coordinator drives; owned and closed by the caller */
  public Coordinator(Config config, CoordinatorMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
  }

  public synchronized Coordinator start() throws Exception {
    AtomicInteger n = new AtomicInteger();
    // Three pools, so that ZooKeeper calls blocked in retries (connection lost) never starve the
    // gRPC handlers or the SUSPENDED/RECONNECTED callbacks that pause and resume decisions.
    executor = new ScheduledThreadPoolExecutor(16, r -> {
      Thread t = new Thread(r, "coordinator-worker-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    grpcExecutor = java.util.concurrent.Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "coordinator-grpc-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    roleEvents = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "coordinator-role");
      t.setDaemon(true);
      return t;
    });
    executor.setRemoveOnCancelPolicy(true);
    int session = (int) config.endpoints().deadline(config.sessionTimeout()).toMillis();
    CuratorFrameworkFactory.Builder zkBuilder = CuratorFrameworkFactory.builder().connectString(config.zookeeper())
        .sessionTimeoutMs(session).connectionTimeoutMs(Math.min(session, 15_000))
        // Bounded by the session: once it has passed without a connection the session is gone and
        // a ZooKeeper call fails (UNAVAILABLE to a client, a retry by its own loop for a driver)
        // instead of blocking a request for minutes past its deadline while SUSPENDED/LOST.
        .retryPolicy(new RetryUntilElapsed(session, 200))
        .connectionStateErrorPolicy(new SessionConnectionStateErrorPolicy());
    if (config.zkCredentials() != null) {
      // Not world-readable: the migration plans hold the page streams' one-time tokens.
      ZooKeeperSecurity.apply(zkBuilder, config.zkCredentials(), false);
    } else {
      log.warn("no ZooKeeper secret (--zk-secret): Ferry's znodes get open ACLs; anyone who reaches ZooKeeper "
          + "at {} can read stream tokens and change migrations", config.zookeeper());
    }
    zk = zkBuilder.build();
    zk.start();
    if (!zk.blockUntilConnected((int) config.endpoints().deadline(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS)) {
      throw new IOException("cannot reach ZooKeeper at " + config.zookeeper());
    }
    if (config.zkCredentials() != null) {
      ZooKeeperSecurity.ensureRoot(zk, config.layout().root(), config.zkCredentials(), false);
    }
    MigrationStore store = new MigrationStore(zk, config.layout());
    store.ensureLayout();
    agents = new AgentDirectory(zk, config.layout());
    agents.start();
    clients = new AgentClients(config.endpoints());
    HealthStatusManager health = new HealthStatusManager();
    // the id is the bound address (port 0 picks one): bind first, then wire and elect
    ServiceHolder holder = new ServiceHolder();
    server = config.endpoints().server(config.listen(), List.<BindableService>of(holder, health.getHealthService()),
        grpcExecutor).start();
    id = config.listen().getHostString() + ":" + server.getPort();
    Services services = new Services(store, agents, clients, executor, Clock.systemUTC(), id, config.endpoints(),
        metrics);
    conductor = new Conductor(services, new ConvergencePolicy());
    leadership = new Leadership(zk, config.layout(), id, conductor, roleEvents);
    conductor.decideWhen(leadership::canDecide);
    holder.delegate = new CoordinatorService(services, conductor, leadership, zk);
    leadership.start();
    log.info("coordinator {} serving; ZooKeeper {} under {}", id, config.zookeeper(), config.layout().root());
    return this;
  }

  /**
   * host:port the gRPC server listens on (the actual port when 0 was asked); still answers after
   * {@link #close} (a terminated server no longer tells its port), as it is the coordinator's id.
   */
  public String address() {
    String a = id;
    if (a == null) {
      throw new IllegalStateException("coordinator not started");
    }
    return a;
  }

  public boolean isLeader() {
    return leadership != null && leadership.isLeader();
  }

  public CuratorFramework zooKeeper() {
    return zk;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (server != null) {
      server.shutdownNow();
    }
    if (conductor != null) {
      conductor.close();
    }
    if (leadership != null) {
      leadership.close();
    }
    if (agents != null) {
      agents.close();
    }
    if (clients != null) {
      clients.close();
    }
    if (zk != null) {
      zk.close();
    }
    if (executor != null) {
      executor.shutdownNow();
    }
    if (grpcExecutor != null) {
      grpcExecutor.shutdownNow();
    }
    if (roleEvents != null) {
      roleEvents.shutdownNow();
    }
  }

  /**
   * The server is built before the service exists (the id is the bound address); calls that come
   * in before wiring answer UNAVAILABLE.
   */
  private static final class ServiceHolder extends dev.ferry.proto.CoordinatorGrpc.CoordinatorImplBase {
    volatile CoordinatorService delegate;

    private CoordinatorService d() {
      CoordinatorService s = delegate;
      if (s == null) {
        throw io.grpc.Status.UNAVAILABLE.withDescription("coordinator is starting").asRuntimeException();
      }
      return s;
    }

    @Override
    public void startMigration(dev.ferry.proto.StartMigrationRequest r,
        io.grpc.stub.StreamObserver<dev.ferry.proto.MigrationInfo> o) {
      d().startMigration(r, o);
    }

    @Override
    public void watchMigration(dev.ferry.proto.WatchMigrationRequest r,
        io.grpc.stub.StreamObserver<dev.ferry.proto.MigrationEvent> o) {
      d().watchMigration(r, o);
    }

    @Override
    public void getMigration(dev.ferry.proto.MigrationRef r, io.grpc.stub.StreamObserver<dev.ferry.proto.MigrationInfo> o) {
      d().getMigration(r, o);
    }

    @Override
    public void listMigrations(dev.ferry.proto.ListMigrationsRequest r,
        io.grpc.stub.StreamObserver<dev.ferry.proto.ListMigrationsReply> o) {
      d().listMigrations(r, o);
    }

    @Override
    public void cancelMigration(dev.ferry.proto.MigrationRef r,
        io.grpc.stub.StreamObserver<dev.ferry.proto.MigrationInfo> o) {
      d().cancelMigration(r, o);
    }

    @Override
    public void listAgents(dev.ferry.proto.ListAgentsRequest r,
        io.grpc.stub.StreamObserver<dev.ferry.proto.ListAgentsReply> o) {
      d().listAgents(r, o);
    }
  }
}
