package dev.ferry.bench;

import com.google.protobuf.ByteString;
import dev.ferry.agent.Agent;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.proto.Compression;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PrepareReceiveRequest;
import dev.ferry.proto.RoundFigures;
import dev.ferry.proto.RunRoundRequest;
import dev.ferry.proto.SourceAgentGrpc;
import dev.ferry.proto.StartTrackingRequest;
import dev.ferry.testkit.Workload;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/ferry-bench transfer [--size 1GiB]}: end-to-end pre-copy throughput of a first round
 * (process memory read by the engine, streamed over gRPC on loopback, written to the destination's
 * page store) against a minimal C pipeline (process_vm_readv, TCP loopback, a buffer) moving the
 * same number of bytes in the same run; with and without LZ4, on the demo workload (ferry-memtouch)
 * and on all-zero memory. Both agents run in this JVM, so the peak heap reported is theirs
 * together (run with -Xmx256m to hold the goal). Prints a table, then one line of key=value figures.
 */
public final class TransferBench {
  private final long sizeMib;
  private final Path work;
  private final Path cPipeline;

  /**
   * Warm-up rounds before the measured one; {@link #AUTO}: until a round's JIT CPU is below
   * {@link #JIT_QUIET_SHARE} of its CPU, at most {@link #MAX_AUTO_WARMUPS}.
   */
  private final int warmups;

  static final int AUTO = -1;
  /**
   * Steady state: the JIT compilers take under this share of a round's CPU. Measured (PrintCompilation,
   * 1 GiB rounds, load 6.5 on 2 CPUs): tier-4 compilations per round 384, 236, 101, 43; JIT CPU 5.35,
   * 2.55, 0.66, 0.35 s of 10.6, 6.1, 3.5, 3.1 s; no class loaded per round. It is warm-up that C2,
   * starved of CPU on a loaded host, finishes late (the Netty/gRPC hot path reaches tier 4 15-25 s
   * after its tier-3 code), not recompilation in a loop. At load ~5 the JIT's share of a round
   * settles at 6-15 % (0.18-0.44 s of ~2.5-3 s) after 4-6 rounds: 15 % is "warm".
   */
  static final double JIT_QUIET_SHARE = 0.15;
  static final int MAX_AUTO_WARMUPS = 6;

  private TransferBench(long sizeMib, Path work, Path cPipeline, int warmups) {
    this.warmups = warmups;
    this.sizeMib = sizeMib;
    this.work = work;
    this.cPipeline = cPipeline;
  }

  public static void main(String[] args) throws Exception {
    long mib = 1024;
    int warmups = AUTO;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--size") && i + 1 < args.length) {
        mib = parseMib(args[++i]);
      } else if (args[i].equals("--no-warmup")) {
        warmups = 0;
      } else if (args[i].equals("--warmups") && i + 1 < args.length) {
        String n = args[++i];
        warmups = n.equals("auto") ? AUTO : Integer.parseInt(n);
      } else if (args[i].equals("--help") || args[i].equals("-h")) {
        System.out.println("usage: ferry-bench transfer [--size 1GiB] [--warmups N|auto | --no-warmup]   (sizes: 256MiB, 1GiB, 4GiB;"
            + " auto, the default: warm up until the JIT takes < 15 % of a round's CPU, at most " + MAX_AUTO_WARMUPS + " rounds)");
        return;
      } else {
        System.err.println("ferry-bench transfer: unknown argument " + args[i] + " (try --help)");
        System.exit(2);
      }
    }
    Path work = Files.createTempDirectory("ferry-transfer-bench");
    try {
      new TransferBench(mib, work, compile(work), warmups).run();
    } finally {
      deleteTree(work);
    }
  }

  static long parseMib(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    if (t.endsWith("gib") || t.endsWith("g")) {
      return Long.parseLong(t.replaceAll("[^0-9]", "")) * 1024;
    }
    return Long.parseLong(t.replaceAll("[^0-9]", ""));
  }

  /**
   * One measured copy; cpuSeconds: this JVM's CPU time during it (both agents, JIT and GC
   * included), or for the C pipeline its two processes' user + system time (getrusage, exact);
   * jitSeconds: the JIT compilers' part of it.
   */
  record Row(String workload, String path, String compression, long bytes, double seconds, long bytesOnWire, double cpuSeconds,
      double jitSeconds, double copySeconds) {
    /** The copy phase alone (pages read, streamed, stored), without the capture and the commit's fsync. */
    double copyGbps() {
      return copySeconds > 0 ? bytes / copySeconds / 1e9 : gbps();
    }

    double gbps() {
      return bytes / seconds / 1e9;
    }

    /** The JIT compilers' share of this round's CPU. */
    double jitShare() {
      return cpuSeconds > 0 ? jitSeconds / cpuSeconds : 0;
    }

    /** GB moved per CPU-second: what the code costs, much less sensitive to other load than GB/s. */
    double gbPerCpuSecond() {
      return cpuSeconds > 0 ? bytes / cpuSeconds / 1e9 : 0;
    }
  }

  private void run() throws Exception {
    List<Row> rows = new ArrayList<>();
    HeapPeak peakHeap;
    try (Agents agents = new Agents(work)) {
      System.gc();
      peakHeap = HeapPeak.start();
      try (Workload demo = Workload.memtouch().sizeMib(sizeMib).ratePagesPerSecond(1000).workDir(work.resolve("memtouch")).start()) {
        // Its first OK line comes after it has filled its memory: reading while it still faults
        // pages in would time its start-up (and a varying part of its size), not the transfer.
        demo.awaitOkLines(1, Duration.ofSeconds(120));
        boolean warm = warmups == 0;
        for (int i = 0; warmups == AUTO ? !warm && i < MAX_AUTO_WARMUPS : i < warmups; i++) {
          // A long-running agent has compiled its hot paths; the first rounds of a fresh JVM
          // would time the JIT. Reported, not counted.
          Row w = agents.transfer("demo", (int) demo.pid(), Compression.COMPRESSION_NONE);
          rows.add(new Row("warmup", w.path(), w.compression(), w.bytes(), w.seconds(), w.bytesOnWire(), w.cpuSeconds(),
              w.jitSeconds(), w.copySeconds()));
          warm = w.jitShare() < JIT_QUIET_SHARE;
        }
        rows.add(agents.transfer("demo", (int) demo.pid(), Compression.COMPRESSION_NONE));
        rows.add(agents.transfer("demo", (int) demo.pid(), Compression.COMPRESSION_LZ4));
      }
      try (Held zero = Held.start(cPipeline, sizeMib, "zero")) {
        rows.add(agents.transfer("zero", zero.pid(), Compression.COMPRESSION_NONE));
        rows.add(agents.transfer("zero", zero.pid(), Compression.COMPRESSION_LZ4));
        rows.add(cCopy("zero", zero));
      }
      try (Held random = Held.start(cPipeline, sizeMib, "random")) {
        rows.add(cCopy("random", random));
      }
      // Not part of the ratio: what the disk under the destination's store takes at best (the C
      // pipeline stores nothing; ferry's round ends with its pages durable on this disk).
      try {
        rows.add(cDisk(work.resolve("dst").resolve("c-disk-probe")));
      } catch (IOException e) {
        System.out.println("warning: no disk figure: " + e.getMessage());
        rows.add(new Row("disk", "c-direct", "-", sizeMib << 20, Double.POSITIVE_INFINITY, 0, 0, 0, 0));
      }
    }
    peakHeap.close();
    System.out.printf("%-8s %-10s %-5s %10s %9s %8s %12s %8s %7s %9s%n", "workload", "path", "comp", "MiB", "seconds", "GB/s", "wire MiB",
        "cpu s", "jit s", "GB/cpu-s");
    for (Row r : rows) {
      System.out.printf(Locale.ROOT, "%-8s %-10s %-5s %10d %9.3f %8.3f %12d %8.2f %7.2f %9.3f%n", r.workload(), r.path(), r.compression(),
          r.bytes() >> 20, r.seconds(), r.gbps(), r.bytesOnWire() >> 20, r.cpuSeconds(), r.jitSeconds(), r.gbPerCpuSecond());
    }
    int warmed = (int) rows.stream().filter(r -> r.workload().equals("warmup")).count();
    rows.subList(0, warmed).clear();
    Row measured = rows.get(0);
    if (measured.jitShare() >= JIT_QUIET_SHARE) {
      System.out.printf(Locale.ROOT, "warning: the JIT compilers took %.2f of the measured round's %.2f CPU-s after %d warm-up round(s): "
          + "not steady state (C2 finishes late on a loaded host); rerun with more --warmups%n", measured.jitSeconds(),
          measured.cpuSeconds(), warmed);
    }
    Row disk = rows.remove(rows.size() - 1);
    double transfer = rows.get(0).gbps();
    double c = rows.get(rows.size() - 1).gbps();
    long peakMib = peakHeap.peakBytes() >> 20;
    System.out.printf(Locale.ROOT, "agents' peak heap %d MiB (max heap %d MiB); goal ratio >= 0.8, heap <= 256 MiB%n",
        peakMib, Runtime.getRuntime().maxMemory() >> 20);
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    int cpus = Runtime.getRuntime().availableProcessors();
    if (load > cpus) {
      System.out.printf(Locale.ROOT, "warning: load average %.1f on %d CPUs: the multi-threaded gRPC path suffers from "
          + "scheduling delays far more than the two-process C pipeline; rerun on an idle host%n", load, cpus);
    }
    Row cRow = rows.get(rows.size() - 1);
    CpuBudget budget = new CpuBudget(cRow.bytes(), c * 1e9, cRow.cpuSeconds(), cpus);
    System.out.printf(Locale.ROOT, "disk under the store: %.3f GB/s (O_DIRECT, 4 MiB writes, fdatasync): ferry's round cannot beat it, "
        + "ratio <= %.2f on this disk%n", disk.gbps(), disk.gbps() / c);
    System.out.printf(Locale.ROOT, "c pipeline %.3f CPU-s per GiB; ratio 0.8 on %d CPUs leaves ferry at most %.3f CPU-s per GiB "
        + "(ferry's measured round: %.3f)%n", budget.cSecondsPerGib(), cpus, budget.ferrySecondsPerGibAt(0.8),
        rows.get(0).cpuSeconds() / (rows.get(0).bytes() / (double) CpuBudget.GIB));
    System.out.printf(Locale.ROOT, "transfer_gbps=%.3f transfer_lz4_gbps=%.3f zero_gbps=%.3f zero_lz4_gbps=%.3f "
            + "c_pipeline_gbps=%.3f c_zero_gbps=%.3f ratio=%.2f transfer_gb_per_cpu_s=%.3f peak_heap_mib=%d size_mib=%d load=%.1f "
            + "transfer_cpu_s=%.2f transfer_jit_cpu_s=%.2f transfer_copy_gbps=%.3f warmups=%d "
            + "c_pipeline_cpu_s=%.3f c_pipeline_cpu_s_per_gib=%.3f transfer_cpu_s_per_gib=%.3f cpu_budget_s_per_gib=%.3f "
            + "disk_direct_gbps=%.3f%n",
        transfer, rows.get(1).gbps(), rows.get(2).gbps(), rows.get(3).gbps(), c, rows.get(4).gbps(), transfer / c,
        rows.get(0).gbPerCpuSecond(), peakMib, sizeMib,
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), rows.get(0).cpuSeconds(), rows.get(0).jitSeconds(),
        rows.get(0).copyGbps(), warmed, cRow.cpuSeconds(), budget.cSecondsPerGib(),
        rows.get(0).cpuSeconds() / (rows.get(0).bytes() / (double) CpuBudget.GIB), budget.ferrySecondsPerGibAt(0.8), disk.gbps());
  }

  private Row cCopy(String workload, Held held) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cPipeline.toString(), "copy", Integer.toString(held.pid()), held.address(),
        Long.toString(sizeMib << 20)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.waitFor() != 0 || !out.startsWith("bytes=")) {
      throw new IOException("c-pipeline copy failed: " + out);
    }
    return new Row(workload, "c-pipeline", "-", sizeMib << 20, field(out, "seconds"), sizeMib << 20, field(out, "cpu_s"), 0, 0);
  }

  /** The C program writing the same number of bytes to {@code file} (new, deleted after) with O_DIRECT. */
  private Row cDisk(Path file) throws IOException, InterruptedException {
    Files.createDirectories(file.getParent());
    Process p = new ProcessBuilder(cPipeline.toString(), "disk", file.toString(), Long.toString(sizeMib << 20))
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.waitFor() != 0 || !out.startsWith("bytes=")) {
      throw new IOException("c-pipeline disk failed (does " + file.getParent() + " allow O_DIRECT?): " + out);
    }
    return new Row("disk", "c-direct", "-", sizeMib << 20, field(out, "seconds"), 0, field(out, "cpu_s"), 0, 0);
  }

  /** The value of {@code key=} in the c-pipeline's "bytes=.. seconds=.. cpu_s=.." line. */
  static double field(String line, String key) throws IOException {
    for (String part : line.trim().split("\\s+")) {
      if (part.startsWith(key + "=")) {
        return Double.parseDouble(part.substring(key.length() + 1));
      }
    }
    throw new IOException("c-pipeline printed no " + key + ": " + line);
  }

  /** Two agents on loopback ports in this JVM and the coordinator's calls to them. */
  private static final class Agents implements AutoCloseable {
    private final Agent source;
    private final Agent destination;
    private final AgentTransport transport = new AgentTransport(DeadlineScale.fromEnvironment(System.getenv()));
    private final ManagedChannel toSource;
    private final ManagedChannel toDestination;
    private int migrations;

    Agents(Path work) throws IOException {
      source = Agent.start(Agent.Config.of("bench-src", new InetSocketAddress("127.0.0.1", 0), work.resolve("src")));
      destination = Agent.start(Agent.Config.of("bench-dst", new InetSocketAddress("127.0.0.1", 0), work.resolve("dst")));
      toSource = transport.channel(source.address());
      toDestination = transport.channel(destination.address());
    }

    Row transfer(String workload, int pid, Compression compression) {
      String id = "bench-" + (++migrations);
      ByteString token = dev.ferry.service.auth.StreamToken.generate().toByteString();
      dst().prepareReceive(PrepareReceiveRequest.newBuilder().setMigrationId(id).setStreamToken(token).setSourceHost("bench-src").build());
      src().startTracking(StartTrackingRequest.newBuilder().setMigrationId(id).setPid(pid).setDestinationAddress(destination.address())
          .setDestinationHost("bench-dst").setStreamToken(token).setCompression(compression).setDryRun(true).build());
      long cpuBefore = processCpuNanos();
      long upBefore = ManagementFactory.getRuntimeMXBean().getUptime();
      java.util.Map<String, Long> threadsBefore = ThreadCpu.snapshot();
      RoundFigures f = src().runRound(RunRoundRequest.newBuilder().setMigrationId(id).setRound(1).build());
      double cpu = (processCpuNanos() - cpuBefore) / 1e9;
      java.util.Map<String, Long> byThread = ThreadCpu.delta(threadsBefore, ThreadCpu.snapshot());
      StringBuilder where = new StringBuilder();
      byThread.entrySet().stream()
          .filter(e -> e.getValue() > 10_000_000L)
          .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
          .forEach(e -> where.append(String.format(Locale.ROOT, " %s=%.2fs", e.getKey(), e.getValue() / 1e9)));
      // JVM uptime of the round, to find it in a -Xlog:jit+compilation log (decorated with uptime)
      System.err.printf(Locale.ROOT, "%s %s JVM uptime %.3fs-%.3fs CPU by thread (JIT and GC included):%s%n", workload, compression,
          upBefore / 1e3, ManagementFactory.getRuntimeMXBean().getUptime() / 1e3, where);
      System.err.println(workload + " " + compression + ": " + f.toString().replace('\n', ' '));
      src().stopTracking(MigrationRef.newBuilder().setMigrationId(id).build());
      dst().discard(MigrationRef.newBuilder().setMigrationId(id).build());
      return new Row(workload, "ferry-grpc", compression == Compression.COMPRESSION_LZ4 ? "lz4" : "none",
          f.getDirtyPages() * 4096, f.getRoundMicros() / 1e6, f.getBytesSent(), cpu, ThreadCpu.compilerNanos(byThread) / 1e9,
          f.getCopyMicros() / 1e6);
    }

    private static long processCpuNanos() {
      return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
          ? os.getProcessCpuTime() : -1;
    }

    private DestinationAgentGrpc.DestinationAgentBlockingStub dst() {
      return transport.withDeadline(DestinationAgentGrpc.newBlockingStub(toDestination), Duration.ofSeconds(30));
    }

    private SourceAgentGrpc.SourceAgentBlockingStub src() {
      return transport.withDeadline(SourceAgentGrpc.newBlockingStub(toSource), Duration.ofMinutes(10));
    }

    @Override
    public void close() {
      toSource.shutdownNow();
      toDestination.shutdownNow();
      source.close();
      destination.close();
    }
  }

  /** A c-pipeline "hold" process: MiB of touched memory at a known address. */
  private record Held(Process process, String address) implements AutoCloseable {
    static Held start(Path exe, long mib, String fill) throws IOException {
      Process p = new ProcessBuilder(exe.toString(), "hold", Long.toString(mib), fill).start();
      String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
      if (line == null || !line.startsWith("ready ")) {
        p.destroyForcibly();
        throw new IOException("c-pipeline hold did not start: " + line);
      }
      return new Held(p, line.substring(6).trim());
    }

    int pid() {
      return (int) process.pid();
    }

    @Override
    public void close() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static Path compile(Path work) throws IOException, InterruptedException {
    Path source = work.resolve("c-pipeline.c");
    try (InputStream in = TransferBench.class.getResourceAsStream("/dev/ferry/bench/c-pipeline.c")) {
      Files.copy(in, source);
    }
    Path exe = work.resolve("c-pipeline");
    Process cc = new ProcessBuilder("cc", "-O2", "-o", exe.toString(), source.toString()).inheritIO().start();
    if (cc.waitFor() != 0) {
      throw new IOException("cc could not build " + source + " (is gcc installed?)");
    }
    return exe;
  }

  private static void deleteTree(Path p) throws IOException {
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }
}
