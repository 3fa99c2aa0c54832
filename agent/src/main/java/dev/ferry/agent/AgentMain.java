package dev.ferry.agent;

import dev.ferry.agent.shutdown.MigrationGuards;
import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.service.config.AgentConfigDefaults;
import dev.ferry.service.metrics.MetricsEndpoint;
import dev.ferry.service.systemd.GracefulShutdown;
import dev.ferry.service.systemd.RollbackJournal;
import dev.ferry.service.systemd.ServiceNotifier;
import dev.ferry.service.systemd.WatchdogPinger;
import dev.ferry.service.tls.TlsOptions;
import dev.ferry.service.tls.TlsWarmUp;
import dev.ferry.service.zookeeper.ZooKeeperCredentials;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The agent daemon: {@code ferry-agent --name host1 --listen 127.0.0.1:7001 --data-dir /var/lib/ferry}. */
@Command(name = "ferry-agent", mixinStandardHelpOptions = true, version = "ferry-agent " + Agent.VERSION,
    defaultValueProvider = AgentConfigDefaults.class,
    description = {
        "Runs the Ferry agent of this host: it serves both migration roles over gRPC.",
        "As the source it tracks a process's written pages round by round and streams them to the",
        "destination agent; as the destination it keeps them in a page store under --data-dir and",
        "restores the process with CRIU at switch-over. It registers itself in ZooKeeper as the",
        "EPHEMERAL node <zk-root>/agents/<name> with its capabilities (soft-dirty, CRIU, kernel,",
        "free disk, load), so coordinators can find it. Deadlines are multiplied by the environment",
        "variable " + DeadlineScale.ENV + " (default 1; e.g. 10 in an emulated VM). Stops cleanly on SIGTERM."})
public final class AgentMain implements Callable<Integer> {
  /** Rollbacks on SIGTERM must end well within the unit's TimeoutStopSec (90 s). */
  private static final Duration SHUTDOWN_DEADLINE = Duration.ofSeconds(60);

  @Option(names = "--config", paramLabel = "<file>", description = "Configuration file of key = value lines, keys being these "
      + "options' names (default: " + AgentConfigDefaults.DEFAULT_FILE + " if it exists); flags override it.")
  Path configFile; // no defaultValue: null means the default file

  @Option(names = "--name", required = true, description = "This agent's host name in Ferry, e.g. host1.")
  String name;

  @Option(names = "--listen", defaultValue = "127.0.0.1:7001", description = "host:port to serve gRPC on (default ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--data-dir", required = true, description = "Directory for page stores and images; must be writable.")
  Path dataDir;

  @Option(names = "--zookeeper", description = "ZooKeeper connect string, e.g. 127.0.0.1:2181. Without it the agent does not register.")
  String zookeeper;

  @Option(names = "--zk-root", defaultValue = "/ferry", description = "ZooKeeper root of Ferry's nodes (default ${DEFAULT-VALUE}).")
  String zkRoot;

  @Option(names = "--zk-secret", paramLabel = "<file>", description = "ZooKeeper digest identity (one line user:password, mode 0600),"
      + " the same file as the coordinators': the agent authenticates and its znodes get Ferry's ACL.")
  Path zkSecret;

  @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0", description = MetricsEndpoint.PORT_HELP)
  int metricsPort;

  /** Mutual TLS: --certs DIR (NAME.crt/.key = --name, ca.crt) or --tls-cert/--tls-key/--tls-ca; or --insecure. */
  @CommandLine.Mixin
  TlsOptions tls = new TlsOptions();

  public static void main(String[] args) {
    System.exit(new CommandLine(new AgentMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    int colon = listen.lastIndexOf(':');
    if (colon < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--listen must be host:port, got '" + listen + "'");
    }
    InetSocketAddress address = new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)));
    Agent.Config config = Agent.Config.of(name, address, dataDir)
        .withDeadlineScale(DeadlineScale.fromEnvironment(System.getenv()))
        .withSecurity(tls.toTransportSecurity(name, "ferry-agent " + name));
    if (zookeeper != null) {
      config = config.withZookeeper(zookeeper, zkRoot);
    }
    if (zkSecret != null) {
      try {
        config = config.withZookeeperCredentials(ZooKeeperCredentials.fromSecretFile(zkSecret));
      } catch (java.io.IOException e) {
        throw new CommandLine.ParameterException(new CommandLine(this), "cannot read --zk-secret " + zkSecret + ": " + e);
      }
    }
    // Under systemd (Type=notify): READY=1 once serving, WATCHDOG=1 while alive, STOPPING=1 on
    // SIGTERM; without NOTIFY_SOCKET all of it is a no-op. See deploy/systemd/README.md.
    ServiceNotifier notifier = ServiceNotifier.fromEnvironment();
    GracefulShutdown shutdown = new GracefulShutdown(notifier, SHUTDOWN_DEADLINE).installSignalHandler();
    AgentMetrics metrics = metricsPort == 0 ? AgentMetrics.unexposed() : AgentMetrics.serve(address.getHostString(), metricsPort);
    shutdown.closeAtExit(metrics); // closed after the agent
    // Records of frozen processes outlive a kill -9 of the JVM: the unit's RuntimeDirectory (kept
    // across restarts; a reboot ends the processes too), else the data dir.
    String runtime = System.getenv("RUNTIME_DIRECTORY");
    Path rollbacks = (runtime != null && !runtime.isBlank() ? Path.of(runtime.split(":")[0]) : dataDir).resolve("rollbacks");
    Agent agent = Agent.start(config, metrics, new MigrationGuards(shutdown, RollbackJournal.open(rollbacks)));
    shutdown.closeAtExit(agent);
    if (metricsPort != 0) {
      System.out.println("ferry-agent: metrics at http://" + address.getHostString() + ":" + metrics.port() + "/metrics");
    }
    String serving = "serving on " + listen + " as " + name;
    // WATCHDOG=1 only while the gRPC server answers and the ZooKeeper registration is in place
    // (a missing registration is tolerated for a minute: Curator re-creates it after a session loss)
    shutdown.closeAtExit(WatchdogPinger.start(notifier, agent.health(serving, config.deadlineScale().apply(Duration.ofSeconds(60)))));
    if (zookeeper != null && !agent.awaitRegistered(config.deadlineScale().apply(Duration.ofSeconds(15)))) {
      System.err.println("ferry-agent: not yet registered in ZooKeeper at " + zookeeper + "; will keep trying");
    }
    // The first TLS handshake of this JVM with itself, not under a coordinator's or a peer's
    // deadline (under emulation a cold first handshake outlasted Netty's limit)
    TlsWarmUp.run(agent.transport().security(), new InetSocketAddress(address.getAddress(), agent.port()),
        config.deadlineScale().apply(Duration.ofSeconds(30)));
    notifier.ready(serving);
    shutdown.awaitShutdown();
    return 0;
  }
}
