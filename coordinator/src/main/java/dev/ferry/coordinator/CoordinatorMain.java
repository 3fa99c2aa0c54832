package dev.ferry.coordinator;

import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.coordinator.service.GrpcEndpoints;
import dev.ferry.coordinator.zk.EmbeddedZooKeeper;
import dev.ferry.coordinator.zk.ZkLayout;
import dev.ferry.service.config.CoordinatorConfigDefaults;
import dev.ferry.service.systemd.GracefulShutdown;
import dev.ferry.service.systemd.Health;
import dev.ferry.service.systemd.ServiceNotifier;
import dev.ferry.service.systemd.WatchdogPinger;
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

  public static void main(String[] args) {
    System.exit(new CommandLine(new CoordinatorMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    GrpcEndpoints endpoints = GrpcEndpoints.fromEnvironment();
    EmbeddedZooKeeper embedded = null;
    String connect = zookeeper;
    if (connect == null || connect.isBlank()) {
      embedded = new EmbeddedZooKeeper(dataDir.toAbsolutePath().resolve("zookeeper"), embeddedPort);
      embedded.start(endpoints.deadline(Duration.ofSeconds(30)));
      connect = embedded.connectString();
      log.info("no --zookeeper given: started an embedded single-node ZooKeeper on {} (data in {})", connect,
          dataDir.toAbsolutePath().resolve("zookeeper"));
    }
    Coordinator coordinator = new Coordinator(new Coordinator.Config(GrpcEndpoints.parseAddress(listen), connect,
        new ZkLayout(root), Duration.ofSeconds(sessionSeconds), endpoints));
    // Under systemd (Type=notify): READY=1 once serving, WATCHDOG=1 while alive, STOPPING=1 on
    // SIGTERM; without NOTIFY_SOCKET all of it is a no-op. See deploy/systemd/README.md.
    ServiceNotifier notifier = ServiceNotifier.fromEnvironment();
    GracefulShutdown shutdown = new GracefulShutdown(notifier, Duration.ofSeconds(20)).installSignalHandler();
    if (embedded != null) {
      shutdown.closeAtExit(embedded); // closed last: after the coordinator
    }
    shutdown.closeAtExit(coordinator);
    try {
      coordinator.start();
    } catch (Exception e) {
      log.error("coordinator failed to start: {}", e.getMessage());
      return 1;
    }
    System.out.println("coordinator listening on " + coordinator.address());
    String serving = "serving on " + coordinator.address();
    shutdown.closeAtExit(WatchdogPinger.start(notifier, () -> Health.ok(serving)));
    notifier.ready(serving);
    shutdown.awaitShutdown();
    return 0;
  }
}
