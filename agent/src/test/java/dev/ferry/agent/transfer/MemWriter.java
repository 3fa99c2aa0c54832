package dev.ferry.agent.transfer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The memwriter.c test workload, compiled with the system's cc into a temp dir and started. */
final class MemWriter implements AutoCloseable {
  private final Process process;

  private MemWriter(Process process) {
    this.process = process;
  }

  static Path compile(Path dir) throws IOException, InterruptedException {
    Path source = dir.resolve("memwriter.c");
    try (InputStream in = MemWriter.class.getResourceAsStream("/memwriter.c")) {
      Files.copy(in, source);
    }
    Path binary = dir.resolve("memwriter");
    Process cc = new ProcessBuilder("cc", "-O2", "-o", binary.toString(), source.toString()).inheritIO().start();
    if (cc.waitFor() != 0) {
      throw new IOException("cc failed to build " + source);
    }
    return binary;
  }

  static MemWriter start(Path binary, int mib) throws IOException {
    Process p = new ProcessBuilder(binary.toString(), Integer.toString(mib)).redirectErrorStream(true).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine(); // blocks until the workload filled its memory
    if (line == null || !line.startsWith("ready")) {
      p.destroyForcibly();
      throw new IOException("memwriter did not start: " + line);
    }
    return new MemWriter(p);
  }

  int pid() {
    return (int) process.pid();
  }

  void stop() throws IOException, InterruptedException {
    signal("STOP");
  }

  void cont() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String sig) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + sig, Integer.toString(pid())).inheritIO().start().waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
