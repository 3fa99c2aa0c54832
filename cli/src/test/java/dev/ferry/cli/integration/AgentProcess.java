package dev.ferry.cli.integration;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Ferry agent as its own process: {@code java dev.ferry.agent.AgentMain} (what bin/ferry-agent
 * runs) with this JVM's class path, its own data dir, port and rollback journal, plaintext gRPC,
 * registered in the given ZooKeeper. Output goes to {@code <data dir>.log}. The agent is a
 * child of the test JVM and is killed with it at the latest ({@link #close}).
 */
final class AgentProcess implements AutoCloseable {
  private final String name;
  private final int port;
  private final Path dataDir;
  private final Path log;
  private final List<String> launcher;
  private final Process process;

  private AgentProcess(String name, int port, Path dataDir, Path log, List<String> launcher, Process process) {
    this.name = name;
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
    int p = port != 0 ? port : freePort();
    Files.createDirectories(dataDir);
    Path log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
    List<String> cmd = new ArrayList<>(launcher);
    cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss1m", "-Xmx384m",
        "-cp", classPath()));
    String logback = System.getProperty("logback.configurationFile");
    if (logback != null) {
      cmd.add("-Dlogback.configurationFile=" + logback);
    }
    cmd.addAll(List.of("dev.ferry.agent.AgentMain", "--name", name, "--listen", "127.0.0.1:" + p,
        "--data-dir", dataDir.toString(), "--zookeeper", zookeeper, "--insecure"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Map<String, String> env = pb.environment();
    env.remove("RUNTIME_DIRECTORY"); // the journal in the data dir: a restart of this agent finds it
    env.remove("NOTIFY_SOCKET");
    if (pathPrefix != null) {
      env.put("PATH", pathPrefix + ":" + env.getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
    }
    return new AgentProcess(name, p, dataDir, log, List.copyOf(launcher), pb.start());
  }

  /** The same agent again (same name, port, data dir and journal), e.g. after {@link #kill}. */
  AgentProcess restart(String zookeeper, Path pathPrefix) throws IOException {
    return start(name, port, dataDir, zookeeper, pathPrefix, launcher);
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
   * This JVM's class path as a string: the JUnit console launcher of the lab loads the classes
   * through its own class loader (java.class.path is just the launcher's jar there).
   */
  static String classPath() {
    List<String> parts = new ArrayList<>();
    for (ClassLoader cl = AgentProcess.class.getClassLoader(); cl != null; cl = cl.getParent()) {
      if (cl instanceof java.net.URLClassLoader u) {
        for (java.net.URL url : u.getURLs()) {
          try {
            parts.add(Path.of(url.toURI()).toString());
          } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            // not a file: not for a class path
          }
        }
      }
    }
    parts.add(System.getProperty("java.class.path"));
    return String.join(java.io.File.pathSeparator, parts);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
