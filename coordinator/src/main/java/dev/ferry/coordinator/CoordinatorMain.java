package dev.ferry.coordinator;

import dev.ferry.coordinator.metrics.CoordinatorMetrics;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.coordinator.service.GrpcEndpoints;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.service.config.CoordinatorConfigDefaults;
import dev.ferry.service.metrics.MetricsEndpoint;
import dev.ferry.service.systemd.GracefulShutdown;
import dev.ferry.service.systemd.Health;
import dev.ferry.service.systemd.ServiceNotifier;
import dev.ferry.service.systemd.WatchdogPinger;
import dev.ferry.service.tls.DevCertificates;
import dev.ferry.service.tls.TlsConfigurationException;
import dev.ferry.service.tls.TlsOptions;
import dev.ferry.service.tls.TlsWarmUp;
import dev.ferry.service.tls.TransportSecurity;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.service.zookeeper.ZooKeeperCredentials;
import dev.ferry.service.zookeeper.ZooKeeperSecurity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry-coordinator}: the coordinator daemon. */
@Command(name = "ferry-coordinator", mixinStandardHelpOptions = true, sortOptions = false,
    defaultValueProvider = CoordinatorConfigDefaults.class,
    description = {
        "Runs a Ferry coordinator: validates and drives live migrations, keeps every migration's state in "
            + "ZooKeeper, and serves the Coordinator gRPC API the `migrate` CLI talks to.",
        "Several coordinators may run against one ZooKeeper ensemble; the elected leader drives the migrations "
            + "and takes over the unfinished ones of a leader that died.",
        "Without --zookeeper it starts an embedded single-node ZooKeeper bound to 127.0.0.1 (one-host use), "
            + "keeping its data under --data-dir.",
        "Secure by default: mutual TLS on its gRPC server and on its channels to agents (--certs DIR or --tls-*; "
            + "only operators start/cancel, viewers look); --insecure runs plaintext and logs a warning.",
        "Deadlines of agent calls are multiplied by the environment variable FERRY_DEADLINE_SCALE (default 1)."})
public final class CoordinatorMain implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorMain.class);

  @Option(names = "--config", paramLabel = "FILE", description = "Configuration file of key = value lines, keys being these "
      + "options' names (default: " + CoordinatorConfigDefaults.DEFAULT_FILE + " if it exists); flags override it.")
  Path configFile; // no defaultValue: null means the default file

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7000",
      description = "Address to serve gRPC on (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--zookeeper", paramLabel = "HOST:PORT,...",
      description = "ZooKeeper ensemble connect string. Omit to start an embedded single-node server.")
  String zookeeper;

  @Option(names = "--zookeeper-root", paramLabel = "PATH", defaultValue = ZkLayout.DEFAULT_ROOT,
      description = "Root znode of Ferry's layout (default: ${DEFAULT-VALUE}).")
  String root;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "ferry-coordinator-data",
      description = "Data directory of the embedded ZooKeeper (default: ./${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--embedded-zookeeper-port", paramLabel = "PORT", defaultValue = "2181",
      description = "Loopback port of the embedded ZooKeeper (default: ${DEFAULT-VALUE}).")
  int embeddedPort;

  @Option(names = "--session-timeout", paramLabel = "SECONDS", defaultValue = "15",
      description = "ZooKeeper session timeout in seconds: a silent leader loses leadership after it "
          + "(scaled by FERRY_DEADLINE_SCALE; default: ${DEFAULT-VALUE}).")
  int sessionSeconds;

  /** Mutual TLS: --certs DIR (coordinator.crt/.key unless --cert-name, ca.crt) or --tls-cert/--tls-key/--tls-ca; or --insecure. */
  @CommandLine.Mixin
  TlsOptions tls = new TlsOptions();

  @Option(names = "--zk-secret", paramLabel = "FILE",
      description = "ZooKeeper digest identity (one line user:password, mode 0600), the same file on every coordinator "
          + "and agent: Ferry's znodes get ACLs only it may read and write; the embedded ZooKeeper then refuses "
          + "unauthenticated sessions. Without it the znodes are open (a warning says so).")
  Path zkSecret;

  @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0", description = MetricsEndpoint.PORT_HELP)
  int metricsPort;

  public static void main(String[] args) {
    System.exit(new CommandLine(new CoordinatorMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    TransportSecurity security;
    ZooKeeperCredentials zkCredentials;
    try {
      security = tls.toTransportSecurity(DevCertificates.COORDINATOR, "ferry-coordinator");
      zkCredentials = zkSecret == null ? null : ZooKeeperCredentials.fromSecretFile(zkSecret);
    } catch (TlsConfigurationException e) {
      System.err.println("ferry-coordinator: " + e.getMessage());
      return 2;
    } catch (java.io.IOException e) {
      System.err.println("ferry-coordinator: cannot read --zk-secret " + zkSecret + ": " + e);
      return 2;
    }
    GrpcEndpoints endpoints = GrpcEndpoints.fromEnvironment(security);
    EmbeddedZooKeeper embedded = null;
    String connect = zookeeper;
    if (connect == null || connect.isBlank()) {
      embedded = EmbeddedZooKeeper.persistent(dataDir.toAbsolutePath().resolve("zookeeper"), embeddedPort,
          zkCredentials == null ? new java.util.Properties() : ZooKeeperSecurity.embeddedServerProperties());
      embedded.serve(endpoints.deadline(Duration.ofSeconds(30)));
      connect = embedded.connectString();
      log.info("no --zookeeper given: started an embedded single-node ZooKeeper on {} (data in {})", connect,
          dataDir.toAbsolutePath().resolve("zookeeper"));
    }
    String metricsHost = GrpcEndpoints.parseAddress(listen).getHostString();
    CoordinatorMetrics metrics = metricsPort == 0 ? CoordinatorMetrics.unexposed()
        : CoordinatorMetrics.serve(metricsHost, metricsPort);
    Coordinator coordinator = new Coordinator(new Coordinator.Config(GrpcEndpoints.parseAddress(listen), connect,
        new ZkLayout(root), Duration.ofSeconds(sessionSeconds), endpoints, zkCredentials), metrics);
    // Under systemd (Type=notify): READY=1 once serving, WATCHDOG=1 while alive, STOPPING=1 on
    // SIGTERM; without NOTIFY_SOCKET all of it is a no-op. See deploy/systemd/README.md.
    ServiceNotifier notifier = ServiceNotifier.fromEnvironment();
    GracefulShutdown shutdown = new GracefulShutdown(notifier, Duration.ofSeconds(20)).installSignalHandler();
    if (embedded != null) {
      shutdown.closeAtExit(embedded); // closed last: after the coordinator
    }
    shutdown.closeAtExit(metrics); // after the coordinator, before the embedded ZooKeeper
    shutdown.closeAtExit(coordinator);
    try {
      coordinator.start();
    } catch (Exception e) {
      log.error("coordinator failed to start: {}", e.getMessage());
      return 1;
    }
    System.out.println("coordinator listening on " + coordinator.address());
    if (metricsPort != 0) {
      System.out.println("metrics at http://" + metricsHost + ":" + metrics.port() + "/metrics");
    }
    // The first TLS handshake of this JVM with itself, not under the first client's deadline
    // (under emulation it outlasted Netty's limit and closed the first CLI call)
    TlsWarmUp.run(security, GrpcEndpoints.parseAddress(coordinator.address()), endpoints.deadline(Duration.ofSeconds(30)));
    String serving = "serving on " + coordinator.address();
    shutdown.closeAtExit(WatchdogPinger.start(notifier, () -> Health.ok(serving)));
    notifier.ready(serving);
    shutdown.awaitShutdown();
    return 0;
  }
}
