package dev.ferry.agent.tracking;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real child process (agent/src/test/c/pagechild.c, compiled with gcc on first use) whose
 * memory the tests track: a region of known pages it writes on command.
 */
public final class PageChild implements AutoCloseable {
  private static Path binary;

  private final Process process;
  private final BufferedReader out;
  private final Writer in;
  private final long region;
  private final int pages;
  private final int pid;

  private PageChild(Process process, int pages) throws IOException {
    this.process = process;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
    String[] hello = readLine().split(" ");
    if (!hello[0].equals("region")) {
      throw new IOException("unexpected greeting: " + String.join(" ", hello));
    }
    this.region = Long.parseUnsignedLong(hello[1], 16);
    this.pages = pages;
    this.pid = hello.length > 3 ? Integer.parseInt(hello[3]) : (int) process.pid();
  }

  /** Compiles (once per JVM) and starts a child with a region of {@code pages} pages. */
  public static PageChild start(int pages) throws IOException, InterruptedException {
    return start(pages, false);
  }

  /** With {@code hugePages} the region is 2 MiB aligned and advised MADV_HUGEPAGE. */
  public static PageChild start(int pages, boolean hugePages) throws IOException, InterruptedException {
    ProcessBuilder pb = hugePages
        ? new ProcessBuilder(binary().toString(), Integer.toString(pages), "thp")
        : new ProcessBuilder(binary().toString(), Integer.toString(pages));
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    return new PageChild(pb.start(), pages);
  }

  /**
   * A child that is not this JVM's child: started by a shell in the background (its stdin kept
   * through fd 3: a background job's own stdin is /dev/null),
   * so the JDK's process reaper never waits for it (as with a process an agent tracks).
   */
  public static PageChild startGrandchild(int pages) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", "exec 3<&0; \"$0\" \"$1\" <&3 3<&- & wait", binary().toString(), Integer.toString(pages));
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    return new PageChild(pb.start(), pages);
  }

  static synchronized Path binary() throws IOException, InterruptedException {
    if (binary != null) {
      return binary;
    }
    // the lab runner may prebuild it on the host: gcc under CPU emulation is slow
    String prebuilt = System.getProperty("ferry.pagechild.binary");
    if (prebuilt != null && Files.isExecutable(Path.of(prebuilt))) {
      binary = Path.of(prebuilt);
      return binary;
    }
    Path src = sourceFile();
    Path dir = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "ferry-test-" + ProcessHandle.current().pid()));
    Path exe = dir.resolve("pagechild");
    Path copy = dir.resolve("pagechild.c");
    Files.copy(src, copy, StandardCopyOption.REPLACE_EXISTING);
    Process gcc = new ProcessBuilder("gcc", "-O2", "-pthread", "-o", exe.toString(), copy.toString())
        .redirectErrorStream(true).start();
    String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!gcc.waitFor(120, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
      throw new IOException("gcc failed to build " + src + ": " + log);
    }
    binary = exe;
    return exe;
  }

  /** agent/src/test/c/pagechild.c, found from the working directory or ferry.repo.root. */
  static Path sourceFile() throws IOException {
    String root = System.getProperty("ferry.repo.root");
    for (Path p : new Path[] {
        Path.of("src/test/c/pagechild.c"), Path.of("agent/src/test/c/pagechild.c"),
        root == null ? Path.of("agent/src/test/c/pagechild.c") : Path.of(root, "agent/src/test/c/pagechild.c")}) {
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new IOException("pagechild.c not found from " + Path.of("").toAbsolutePath());
  }

  public int pid() {
    return pid;
  }

  public long region() {
    return region;
  }

  public int pages() {
    return pages;
  }

  public long pageAddress(int index) {
    return region + 4096L * index;
  }

  /** Writes byte 8 of each page index; returns after the child confirmed. */
  public void write(Collection<Integer> indexes) throws IOException {
    command("w " + indexes.stream().map(String::valueOf).collect(Collectors.joining(" ")), "ok");
  }

  /** Drops those pages with MADV_DONTNEED (the child reads zeros there afterwards). */
  public void drop(Collection<Integer> indexes) throws IOException {
    command("drop " + indexes.stream().map(String::valueOf).collect(Collectors.joining(" ")), "ok");
  }

  public void remap() throws IOException {
    command("remap", "ok");
  }

  public void startStress(long seed) throws IOException {
    command("stress " + seed, "ok");
  }

  /** Stops the writer thread; returns how many writes it made. */
  public long stopStress() throws IOException {
    in.write("stop\n");
    in.flush();
    String line = readLine();
    if (!line.startsWith("stopped ")) {
      throw new IOException("unexpected answer: " + line);
    }
    return Long.parseLong(line.substring(8).trim());
  }

  /** Writes of the writer thread so far (it keeps running). */
  public long writes() throws IOException {
    in.write("count\n");
    in.flush();
    String line = readLine();
    if (!line.startsWith("writes ")) {
      throw new IOException("unexpected answer: " + line);
    }
    return Long.parseLong(line.substring(7).trim());
  }

  /** Forks a grandchild that writes its own copy of the region; returns its pid. */
  public int fork() throws IOException {
    in.write("fork\n");
    in.flush();
    String line = readLine();
    if (!line.startsWith("child ")) {
      throw new IOException("unexpected answer: " + line);
    }
    return Integer.parseInt(line.substring(6).trim());
  }

  private void command(String cmd, String expect) throws IOException {
    in.write(cmd + "\n");
    in.flush();
    String line = readLine();
    if (!line.equals(expect)) {
      throw new IOException("child answered '" + line + "' to '" + cmd + "'");
    }
  }

  private String readLine() throws IOException {
    String line = out.readLine();
    if (line == null) {
      throw new IOException("child " + process.pid() + " closed its output (exited?)");
    }
    return line;
  }

  public Process process() {
    return process;
  }

  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
