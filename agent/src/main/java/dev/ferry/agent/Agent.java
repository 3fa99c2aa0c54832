package dev.ferry.agent;

import io.grpc.protobuf.services.HealthStatusManager;
import dev.ferry.agent.criu.Checkpointer;
import dev.ferry.agent.criu.CriuCheckpoints;
import dev.ferry.agent.criu.CriuCommand;
import dev.ferry.agent.criu.CriuRestores;
import dev.ferry.agent.criu.LazyPages;
import dev.ferry.agent.criu.MinimalParentImages;
import dev.ferry.agent.criu.ProcCapabilities;
import dev.ferry.agent.criu.ProcessTree;
import dev.ferry.agent.criu.Restorer;
import dev.ferry.agent.criu.CriuProbe;
import dev.ferry.agent.criu.CriuStatus;
import dev.ferry.agent.recovery.RestoredOrphans;
import dev.ferry.agent.destination.DestinationAgentService;
import dev.ferry.agent.destination.MeteredRestores;
import dev.ferry.agent.destination.RestoreHandler;
import dev.ferry.agent.health.AgentHealth;
import dev.ferry.agent.shutdown.MigrationGuards;
import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.agent.memory.SoftDirtySupport;
import dev.ferry.agent.source.CheckpointHandler;
import dev.ferry.agent.source.MeteredCheckpoints;
import dev.ferry.agent.source.EngineSessions;
import dev.ferry.agent.tracking.TrackerSettings;
import dev.ferry.agent.source.PrecopySessionFactory;
import dev.ferry.agent.source.SourceAgentService;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.transfer.PageStreamService;
import dev.ferry.agent.transfer.SendOptions;
import dev.ferry.agent.transfer.StreamTokens;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.service.systemd.HealthCheck;
import dev.ferry.service.tls.TransportSecurity;
import dev.ferry.service.zookeeper.ZooKeeperCredentials;
import io.grpc.Server;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Ferry agent: the gRPC server with the SourceAgent, DestinationAgent and PageStream
 * services, the page stores under the data dir and, if a ZooKeeper connect string is given, its
 * registration. One start ({@link #start}) and one {@link #close}; no static state, so tests run
 * several agents in one JVM.
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  public static final String VERSION = "0.1.0";
  /** How long one criu dump or restore may take (scaled by the deadline scale). */
  static final Duration CRIU_DEADLINE = Duration.ofMinutes(3);

  /** Everything an agent is built from. The seams default to "not in this build". */
  public record Config(String name, InetSocketAddress listen, Path dataDir, String zookeeper, String zkRoot,
      DeadlineScale deadlineScale, PrecopySessionFactory sessions, CheckpointHandler checkpoints,
      RestoreHandler restores, SendOptions sendDefaults, TransportSecurity security, ZooKeeperCredentials zkCredentials) {

    /**
     * An agent with the engine's trackers. The switch-over seams are left NONE here, which the
     * agent replaces with CRIU's (criu.CriuCheckpoints/CriuRestores) when `criu check` passes on
     * this host; without a usable CRIU they answer UNIMPLEMENTED (and the coordinator refuses a
     * real migration up front, since the capabilities say CRIU is unusable).
     */
    public static Config of(String name, InetSocketAddress listen, Path dataDir) {
      return new Config(name, listen, dataDir, null, "/ferry", DeadlineScale.ONE,
          new EngineSessions(SoftDirtyProbe.probe(), TrackerSettings.defaults()),
          CheckpointHandler.NONE, RestoreHandler.NONE, SendOptions.defaults(), null, null);
    }

    public Config withZookeeper(String connect, String root) {
      return new Config(name, listen, dataDir, connect, root, deadlineScale, sessions, checkpoints, restores, sendDefaults, security, zkCredentials);
    }

    public Config withDeadlineScale(DeadlineScale scale) {
      return new Config(name, listen, dataDir, zookeeper, zkRoot, scale, sessions, checkpoints, restores, sendDefaults, security, zkCredentials);
    }

    public Config withSessions(PrecopySessionFactory f) {
      return new Config(name, listen, dataDir, zookeeper, zkRoot, deadlineScale, f, checkpoints, restores, sendDefaults, security, zkCredentials);
    }

    public Config withCheckpoints(CheckpointHandler h) {
      return new Config(name, listen, dataDir, zookeeper, zkRoot, deadlineScale, sessions, h, restores, sendDefaults, security, zkCredentials);
    }

    public Config withRestores(RestoreHandler h) {
      return new Config(name, listen, dataDir, zookeeper, zkRoot, deadlineScale, sessions, checkpoints, h, sendDefaults, security, zkCredentials);
    }

    /** Mutual TLS (or explicit plaintext) for the agent's server and its channels to other agents. */
    public Config withSecurity(TransportSecurity s) {
      return new Config(name, listen, dataDir, zookeeper, zkRoot, deadlineScale, sessions, checkpoints, restores, sendDefaults, s, zkCredentials);
    }

    /** Ferry's ZooKeeper digest identity: the registration authenticates and creates znodes only Ferry may write. */
    public Config withZookeeperCredentials(ZooKeeperCredentials c) {
      return new Config(name, listen, dataDir, zookeeper, zkRoot, deadlineScale, sessions, checkpoints, restores, sendDefaults, security, c);
    }

    public Config withSendDefaults(SendOptions o) {
      return new Config(name, listen, dataDir, zookeeper, zkRoot, deadlineScale, sessions, checkpoints, restores, o, security, zkCredentials);
    }
  }

  private final Config config;
  private final AgentTransport transport;
  private final ExecutorService grpcExecutor;
  private final ExecutorService workers;
  private final ScheduledExecutorService scheduler;
  private final PageStores stores;
  private final SourceAgentService source;
  private final SoftDirtySupport softDirty;
  private final CriuStatus criu;
  private final AgentMetrics metrics;
  /** The switch-over seams: CRIU's when usable here (and none was configured), else the configured ones. */
  private final CheckpointHandler checkpoints;
  private final RestoreHandler restores;
  private Server server;
  private AgentRegistration registration;
  private AgentHealth health; // guarded by this
  private DestinationAgentService destination;
  /** Settles what a previous run left (LeftoverSettler); its own thread, as it blocks on ZooKeeper. */
  private final ScheduledExecutorService recovery;

  private Agent(Config config, AgentMetrics metrics, MigrationGuards guards) {
    this.config = config;
    this.metrics = metrics;
    // No security configured (tests built with Config.of): plaintext, and AgentTransport says so at WARN.
    this.transport = config.security() == null ? new AgentTransport(config.deadlineScale())
        : new AgentTransport(config.deadlineScale(), config.security());
    this.grpcExecutor = Executors.newFixedThreadPool(8, named(config.name() + "-grpc"));
    this.workers = Executors.newCachedThreadPool(named(config.name() + "-round"));
    this.scheduler = Executors.newSingleThreadScheduledExecutor(named(config.name() + "-timer"));
    this.recovery = Executors.newSingleThreadScheduledExecutor(named(config.name() + "-recovery"));
    PageHashing hashing = new PageHashing();
    this.softDirty = SoftDirtyProbe.probe();
    this.criu = probeCriu(config.deadlineScale().apply(Duration.ofSeconds(60)));
    SendOptions send = config.sendDefaults().withAckTimeout(transport.scaled(config.sendDefaults().ackTimeout()));
    this.checkpoints = new MeteredCheckpoints(config.checkpoints() == CheckpointHandler.NONE && criu.usable()
        ? new CriuCheckpoints(new Checkpointer(CriuCommand.onPath(), new MinimalParentImages(), new ProcessTree(),
            config.deadlineScale().apply(CRIU_DEADLINE), List.of()), config.dataDir().resolve("checkpoints"))
        : config.checkpoints(), metrics);
    RestoreHandler restoreHandler = config.restores() == RestoreHandler.NONE && criu.usable()
        ? new CriuRestores(new Restorer(CriuCommand.onPath(), new MinimalParentImages(), new ProcessTree(),
            config.deadlineScale().apply(CRIU_DEADLINE), List.of()).withLazyPages(probeLazyPages(config)))
        : config.restores();
    this.restores = new MeteredRestores(restoreHandler, metrics);
    // A CRIU destination restores from its store's pages laid out by address, kept current round
    // by round (PageStore#parentLayout): nothing is laid out after the freeze.
    this.stores = new PageStores(config.dataDir(), hashing, restoreHandler instanceof CriuRestores);
    this.source = new SourceAgentService(this::capabilities, config.sessions(), checkpoints, transport, send,
        hashing, workers, scheduler, metrics, guards);
    metrics.watchStores(stores::bytesOnDisk, stores::pagesHeld);
  }

  /** Starts the server (and registration), its metrics kept unserved; see {@link #start(Config, AgentMetrics)}. */
  public static Agent start(Config config) throws IOException {
    return start(config, AgentMetrics.unexposed(), MigrationGuards.none());
  }

  /** {@link #start(Config, AgentMetrics, MigrationGuards)} with unserved metrics (tests). */
  public static Agent start(Config config, MigrationGuards guards) throws IOException {
    return start(config, AgentMetrics.unexposed(), guards);
  }

  /** {@link #start(Config, AgentMetrics, MigrationGuards)} without guards (no stop hooks, no journal). */
  public static Agent start(Config config, AgentMetrics metrics) throws IOException {
    return start(config, metrics, MigrationGuards.none());
  }

  /**
   * Starts the server (and registration); fails with a message naming the address or directory.
   * Its migrations are guarded: SIGTERM rolls back what has not committed, and what a killed
   * previous run left in the guards' journal is settled before serving.
   *
   * @param metrics fed by this agent (page stream, rounds, stores); owned and closed by the caller
   */
  public static Agent start(Config config, AgentMetrics metrics, MigrationGuards guards) throws IOException {
    Files.createDirectories(config.dataDir());
    if (!Files.isWritable(config.dataDir())) {
      throw new IOException("data dir " + config.dataDir() + " is not writable");
    }
    Agent agent = new Agent(config, metrics, guards);
    try {
      StreamTokens tokens = new StreamTokens();
      DestinationAgentService destination = new DestinationAgentService(agent.stores, tokens, agent.restores,
          agent.workers, guards);
      if (guards.journal() != null) {
        JournalLeftovers.settle(guards.journal(), agent.source, destination);
      }
      agent.destination = destination;
      // Before serving: a Discard from the coordinator must find an orphaned restored copy adopted.
      agent.adoptOrphanedRestores();
      agent.server = agent.transport.startServer(config.listen(), List.of(agent.source, destination,
          new PageStreamService(agent.stores, tokens, metrics, agent.restores::prepare),
          // grpc.health.v1: SERVING while the server runs (load balancers, `grpc_health_probe`)
          new HealthStatusManager().getHealthService()), agent.grpcExecutor);
      if (config.zookeeper() != null) {
        agent.registration = new AgentRegistration(config.zookeeper(), config.zkRoot(), config.name(), agent.capabilities(),
            config.zkCredentials());
        agent.scheduler.scheduleWithFixedDelay(() -> agent.registration.update(agent.capabilities()), 30, 30, TimeUnit.SECONDS);
        agent.workers.execute(agent::recoverAfterRegistration);
      }
      log.info("agent {} serving on {} (data dir {}, soft-dirty {}, criu {})", config.name(), agent.address(),
          config.dataDir(), agent.softDirty.available(), agent.criu.describe());
      return agent;
    } catch (IOException e) {
      agent.close();
      throw new IOException("agent " + config.name() + " could not serve on " + config.listen() + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      agent.close();
      throw e;
    }
  }

  /**
   * The agent's health for the service watchdog (started on first call, closed with the agent):
   * its own gRPC server answers over the network and its ZooKeeper registration exists (or has
   * been missing for less than {@code zkGrace}). {@code serving} is the status line while healthy.
   */
  public synchronized HealthCheck health(String serving, Duration zkGrace) {
    if (health == null) {
      AgentRegistration r = registration;
      health = new AgentHealth(serving, transport, address(), r == null ? () -> true : r::registered,
          source::activeMigrations, zkGrace, System::nanoTime).start(scheduler);
    }
    return health;
  }

  /**
   * Restored copies a previous run left stopped without a rollback record (it was killed during
   * {@code criu restore}): adopted like journal leftovers, so the coordinator's Discard or
   * ResumeRestored, or the {@link LeftoverSettler}, acts on them. Reads files only.
   */
  private void adoptOrphanedRestores() {
    Set<String> known = destination.adoptedMigrations();
    for (RestoredOrphans.Orphan o : RestoredOrphans.scan(stores.root(), Restorer.PID_FILE)) {
      if (!known.contains(o.migrationId())) {
        destination.adopt(o.migrationId(), o.process(), () -> {});
        log.warn("migration {}: a previous run of this agent died during its restore; restored copy {} is stopped and"
            + " waits for the migration's record (committed: resume; rolled back: kill)", o.migrationId(), o.process().pid());
      }
    }
  }

  /**
   * Once registered: settles what a previous run left (orphaned restores first, once a restore
   * CRIU may still be finishing has ended; then stale stores; then the stopped copies by their
   * migrations' records, every {@link LeftoverSettler#INTERVAL} until none is left).
   */
  private void recoverAfterRegistration() {
    AgentRegistration r = registration;
    try {
      if (r == null || !r.awaitRegistered(transport.scaled(Duration.ofSeconds(60)).toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("not registered in ZooKeeper yet: page stores and stopped copies of earlier runs are kept for now");
        return;
      }
      long until = System.nanoTime() + config.deadlineScale().apply(CRIU_DEADLINE).toNanos();
      boolean waited = false;
      while (RestoredOrphans.restoreRunning(stores.root()) && System.nanoTime() < until) {
        if (!waited) {
          log.warn("a criu restore started by a previous run of this agent still runs: waiting for it to end");
          waited = true;
        }
        Thread.sleep(500); // polling /proc: a process not ours to wait on
      }
      if (waited) {
        adoptOrphanedRestores();
      }
      discardStaleStores(r);
      settleLeftovers(new LeftoverSettler(r::migrationPhase, source, destination));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One settling pass; again after {@link LeftoverSettler#INTERVAL} while some are left. */
  private void settleLeftovers(LeftoverSettler settler) {
    try {
      if (settler.pass() > 0) {
        recovery.schedule(() -> settleLeftovers(settler), LeftoverSettler.INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // the agent is closing: the next run settles what is left
    } catch (RuntimeException e) {
      log.warn("settling what a previous run left failed: {}", e.toString());
    }
  }

  /** Removes the page stores a previous run left for migrations the coordinators no longer list as unfinished. */
  private void discardStaleStores(AgentRegistration r) {
    try {
      List<String> removed = stores.discardStale(r.unfinishedMigrations());
      if (!removed.isEmpty()) {
        log.info("removed {} stale page store(s) of migrations no coordinator lists as unfinished: {}", removed.size(), removed);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("could not clean up stale page stores: {}", e.toString());
    }
  }

  /** Waits for the first ZooKeeper registration (tests, startup logs). */
  public boolean awaitRegistered(Duration timeout) throws InterruptedException {
    return registration != null && registration.awaitRegistered(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public int port() {
    return server.getPort();
  }

  /** host:port others reach this agent at. */
  public String address() {
    return config.listen().getHostString() + ":" + port();
  }

  public String name() {
    return config.name();
  }

  public AgentTransport transport() {
    return transport;
  }

  public PageStores stores() {
    return stores;
  }

  public AgentCapabilities capabilities() {
    AgentCapabilities.Builder caps = AgentCapabilities.newBuilder()
        .setHost(config.name())
        .setAddress(server == null ? config.listen().getHostString() + ":" + config.listen().getPort() : address())
        .setSoftDirty(softDirty.available()).setSoftDirtyDetail(softDirty.available() ? "" : softDirty.detail())
        .setKernel(HostProbes.kernel())
        .setFreeDiskBytes(stores.usableBytes())
        .setActiveMigrations(source.activeMigrations())
        .setVersion(VERSION + " load " + String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
    ProcCapabilities.own().ifPresent(caps::setOwnCapabilities);
    return criu.publishTo(caps).build();
  }

  /**
   * Stops serving (in-flight quick calls get a short grace; rounds, checkpoints and restores are
   * interrupted), ends throttles, closes the stores. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (health != null) {
        health.close();
        health = null;
      }
    }
    if (registration != null) {
      registration.close();
      registration = null;
    }
    if (server != null) {
      server.shutdown();
      // Rounds, checkpoints and restores in flight are abandoned, not awaited: their callers get
      // CANCELLED and roll back. (A restore finishing during the grace below would report a
      // success the coordinator commits to while this agent is going away.)
      workers.shutdownNow();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException e) {
        server.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    source.close();
    recovery.shutdownNow();
    stores.close();
    workers.shutdownNow();
    scheduler.shutdownNow();
    grpcExecutor.shutdownNow();
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** CRIU's typed status, probed once at start (also warms CRIU's kernel-feature cache). */
  /** Whether this destination restores the final delta's pages lazily (CRIU's userfaultfd daemon); a log line either way. */
  private static LazyPages.Support probeLazyPages(Config config) {
    try {
      LazyPages.Support s = LazyPages.probe(CriuCommand.onPath(), config.deadlineScale().apply(Duration.ofSeconds(60)));
      if (s instanceof LazyPages.Unsupported u) {
        log.info("CRIU lazy pages unavailable, restores read every page eagerly: {}", u.reason());
      } else {
        log.info("CRIU lazy pages available: the final delta's pages are served by criu lazy-pages after the restore");
      }
      return s;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new LazyPages.Unsupported("interrupted while probing");
    }
  }

  private static CriuStatus probeCriu(Duration deadline) {
    try {
      return new CriuProbe(CriuCommand.onPath(), deadline).probe();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new CriuStatus.Unusable("", "probe interrupted");
    }
  }
}
