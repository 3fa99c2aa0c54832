package dev.ferry.cli.integration;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Ferry agent as its own process: {@code java dev.ferry.agent.AgentMain} (what bin/ferry-agent
 * runs) with its own data dir, port and rollback journal, plaintext gRPC, registered in the given
 * ZooKeeper. Output goes to {@code <data dir>.log}, which starts with the command line. The agent
 * is a child of the test JVM and is killed with it at the latest ({@link #close}).
 *
 * <p>The JVM runs from the shaded {@code ferry.jar} and the application class-data-sharing
 * archive that deploy/lab/run-lab-tests prepares on the host (system properties
 * {@value #JAR_PROPERTY} and {@value #CDS_PROPERTY}), else from this JVM's class path. Why: in the
 * lab VM every file lookup is a 9p round trip through emulated virtio (the shares are mounted
 * without a cache), and the test class path has 14 module directories before its 85 jars: an
 * agent loading its ~3,000 classes from it made ~27,000 stat calls (25,000 of them misses) and
 * took 435 s to serve in the VM (263 s of CPU), against 97 s from the one jar and 84 s from the
 * jar with the archive (measured one at a time, machine loaded). Two of the former at once did
 * not register within 6m40s.
 */
final class AgentProcess implements AutoCloseable {
  /** Path of the shaded ferry.jar to run agents from (set by deploy/lab/run-lab-tests when it is current). */
  static final String JAR_PROPERTY = "ferry.lab.agent.jar";
  /** Path of a CDS archive made from an agent start of that jar with these JVM flags (-XX:ArchiveClassesAtExit). */
  static final String CDS_PROPERTY = "ferry.lab.agent.cds";
  /**
   * JVM flags for an emulated CPU: C1 only and the serial GC (JIT and GC threads compete with
   * everything else on the VM's 2 CPUs), and criu exec'd once, not through jspawnhelper (as
   * bin/.ferry-java runs agents). run-lab-tests trains the CDS archive with the same flags.
   */
  static final List<String> JVM_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss1m", "-Xmx384m",
      "-XX:-UsePerfData", "-Djdk.lang.Process.launchMechanism=VFORK");

  private final String name;
  private final String host;
  private final int port;
  private final Path dataDir;
  private final Path log;
  private final List<String> launcher;
  private final Process process;

  private AgentProcess(String name, String host, int port, Path dataDir, Path log, List<String> launcher, Process process) {
    this.name = name;
    this.host = host;
    this.launcher = launcher;
    this.port = port;
    this.dataDir = dataDir;
    this.log = log;
    this.process = process;
  }

  /**
   * Starts agent {@code name} (does not wait for it: JVM starts take 30-40 s under emulation, so
   * start several, then await their registrations). {@code port} 0 picks a free one.
   *
   * @param pathPrefix a directory put first on the agent's PATH (a criu wrapper), or null
   */
  static AgentProcess start(String name, int port, Path dataDir, String zookeeper, Path pathPrefix) throws IOException {
    return start(name, port, dataDir, zookeeper, pathPrefix, List.of());
  }

  /**
   * The same, the JVM started through {@code launcher} (a command that execs the rest of its
   * arguments, e.g. setpriv narrowing the agent's capability bounding set).
   */
  static AgentProcess start(String name, int port, Path dataDir, String zookeeper, Path pathPrefix, List<String> launcher)
      throws IOException {
    return start(name, "127.0.0.1", port, dataDir, zookeeper, pathPrefix, launcher);
  }

  /**
   * The same, serving on (and advertising) {@code host}: e.g. a lab host's address, the JVM
   * started through that host's {@code LabNetwork.Host#enter()} as the launcher.
   */
  static AgentProcess start(String name, String host, int port, Path dataDir, String zookeeper, Path pathPrefix,
      List<String> launcher) throws IOException {
    int p = port != 0 ? port : freePort();
    Files.createDirectories(dataDir);
    Path log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
    List<String> cmd = new ArrayList<>(launcher);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_FLAGS);
    cmd.addAll(classes());
    String logback = System.getProperty("logback.configurationFile");
    if (logback != null) {
      cmd.add("-Dlogback.configurationFile=" + logback);
    }
    cmd.addAll(List.of("dev.ferry.agent.AgentMain", "--name", name, "--listen", host + ":" + p,
        "--data-dir", dataDir.toString(), "--zookeeper", zookeeper, "--insecure"));
    Files.writeString(log, "# " + java.time.Instant.now() + " " + String.join(" ", cmd) + "\n", StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Map<String, String> env = pb.environment();
    env.remove("RUNTIME_DIRECTORY"); // the journal in the data dir: a restart of this agent finds it
    env.remove("NOTIFY_SOCKET");
    if (pathPrefix != null) {
      env.put("PATH", pathPrefix + ":" + env.getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
    }
    return new AgentProcess(name, host, p, dataDir, log, List.copyOf(launcher), pb.start());
  }

  /** The same agent again (same name, port, data dir and journal), e.g. after {@link #kill}. */
  AgentProcess restart(String zookeeper, Path pathPrefix) throws IOException {
    return start(name, host, port, dataDir, zookeeper, pathPrefix, launcher);
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  Path dataDir() {
    return dataDir;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** kill -9: no shutdown hook, no rollback; CRIU children it started run on. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** The agent's output so far (for failure messages). */
  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy(); // SIGTERM: the agent's graceful stop
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }

  /**
   * {@code -cp ferry.jar} with its CDS archive when run-lab-tests prepared them, else this JVM's
   * class path (jars first: see the class comment). A CDS archive that does not fit (another jar
   * or JVM) is refused by the JVM with a warning in the agent's log, and the agent starts without it.
   */
  static List<String> classes() {
    String jar = System.getProperty(JAR_PROPERTY, "");
    if (jar.isBlank() || !Files.isRegularFile(Path.of(jar))) {
      return List.of("-cp", classPath());
    }
    List<String> flags = new ArrayList<>();
    String cds = System.getProperty(CDS_PROPERTY, "");
    if (!cds.isBlank() && Files.isRegularFile(Path.of(cds))) {
      // mapped where it was made (no relocation of every pointer in it: seconds under emulation)
      flags.addAll(List.of("-Xshare:auto", "-XX:SharedArchiveFile=" + cds, "-XX:+UnlockDiagnosticVMOptions",
          "-XX:ArchiveRelocationMode=0"));
    }
    flags.addAll(List.of("-cp", jar));
    return flags;
  }

  /**
   * This JVM's class path as a string, dependency jars before directories: the JUnit console
   * launcher of the lab loads the classes through its own class loader (java.class.path is just
   * the launcher's jar there).
   */
  static String classPath() {
    List<String> jars = new ArrayList<>();
    List<String> dirs = new ArrayList<>();
    for (ClassLoader cl = AgentProcess.class.getClassLoader(); cl != null; cl = cl.getParent()) {
      if (cl instanceof java.net.URLClassLoader u) {
        for (java.net.URL url : u.getURLs()) {
          try {
            Path p = Path.of(url.toURI());
            (Files.isDirectory(p) ? dirs : jars).add(p.toString());
          } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            // not a file: not for a class path
          }
        }
      }
    }
    jars.addAll(dirs);
    jars.add(System.getProperty("java.class.path"));
    return String.join(java.io.File.pathSeparator, jars);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
