package dev.ferry.bench;

import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.agent.tracking.CapturedRound;
import dev.ferry.agent.tracking.ContentHashSession;
import dev.ferry.agent.tracking.CopyFigures;
import dev.ferry.agent.tracking.PageSink;
import dev.ferry.agent.tracking.SoftDirtySession;
import dev.ferry.agent.tracking.TrackerSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferry-bench engine}: the pre-copy engine against a workload of --size bytes, in one run:
 * a full copy round through the engine (pages/s, GB/s), the raw process_vm_readv limit measured
 * by a tiny C reader over the same memory (interleaved with the engine's rounds so both see the
 * same machine load), their ratio, the freeze window of rounds 1 and 2 with --pagemap-threads
 * readers and with one (the same run), the C floor of the pagemap read with as many threads and
 * with one (so the comparison stays honest), and the hash tracker's GB/s. Prints a table, then
 * one key=value line.
 */
@Command(name = "engine", mixinStandardHelpOptions = true,
    description = "Benchmark the page-tracking engine against the raw process_vm_readv limit.")
public final class EngineBench implements Callable<Integer> {

  @Option(names = "--size", defaultValue = "1GiB", description = "workload memory, e.g. 1GiB, 256MiB (default ${DEFAULT-VALUE})")
  String size;

  @Option(names = "--rounds", defaultValue = "5", description = "measured rounds of each kind (median reported)")
  int rounds;

  @Option(names = "--buffer", defaultValue = "1MiB", description = "engine copy buffer per process_vm_readv call")
  String buffer;

  @Option(names = "--thp", description = "let the workload use transparent huge pages")
  boolean thp;

  @Option(names = "--pagemap-threads", description = "pagemap reader threads inside the freeze, compared with 1 in the same run"
      + " (default: the engine's default, ${DEFAULT-VALUE})")
  int pagemapThreads = TrackerSettings.DEFAULT_PAGEMAP_THREADS;

  public static void main(String[] args) {
    System.exit(new CommandLine(new EngineBench()).execute(args));
  }

  /** Counts what a round hands over and drops it (the engine's own cost, no transport). */
  private static final class CountingSink implements PageSink {
    long pages;
    long zero;

    @Override
    public void pages(int pid, long address, int n, ByteBuffer data) {
      pages += n;
    }

    @Override
    public void zeroPages(int pid, long address, int n) {
      zero += n;
    }
  }

  @Override
  public Integer call() throws Exception {
    long bytes = parseSize(size);
    int bufferBytes = (int) parseSize(buffer);
    Path dir = Files.createTempDirectory("ferry-bench-engine");
    try {
      Path workloadExe = compile(dir, "engine_workload");
      Path readerExe = compile(dir, "pvr_reader");
      List<String> cmd = new ArrayList<>(List.of(workloadExe.toString(), Long.toString(bytes)));
      if (thp) {
        cmd.add("thp");
      }
      Process workload = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try {
        BufferedReader out = new BufferedReader(new InputStreamReader(workload.getInputStream(), StandardCharsets.US_ASCII));
        String[] ready = String.valueOf(out.readLine()).split(" ");
        if (!ready[0].equals("ready")) {
          throw new IOException("workload did not start: " + String.join(" ", ready));
        }
        String address = ready[1];
        int pid = (int) workload.pid();
        return measure(pid, address, bytes, bufferBytes, readerExe);
      } finally {
        workload.destroyForcibly();
        workload.waitFor(10, TimeUnit.SECONDS);
      }
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  private int measure(int pid, String address, long bytes, int bufferBytes, Path readerExe) throws Exception {
    TrackerSettings settings = TrackerSettings.defaults().withCopyBuffer(bufferBytes).withPagemapThreads(pagemapThreads);
    TrackerSettings single = settings.withPagemapThreads(1);
    int n = pagemapThreads;
    System.out.printf(Locale.ROOT, "workload pid %d, %s at 0x%s, engine buffer %d KiB, pagemap threads %d (vs 1), soft-dirty here: %s%n",
        pid, size, address, bufferBytes / 1024, n, SoftDirtyProbe.probe().detail());
    engineRounds(pid, settings); // warm-up: JIT, page cache of /proc
    engineRounds(pid, single);
    floor(readerExe, "read", pid, address, bytes, 1);
    List<Double> pagemapMs = new ArrayList<>();
    List<Double> pagemap1Ms = new ArrayList<>();
    List<Double> engine = new ArrayList<>();
    List<Double> pagesPerSec = new ArrayList<>();
    List<Double> freezeMs = new ArrayList<>();
    List<Double> freeze1Ms = new ArrayList<>();
    List<Double> raw = new ArrayList<>();
    // interleaved: N threads, 1 thread, C floors, so all see the same machine load
    for (int i = 0; i < rounds; i++) {
      double[] r = engineRounds(pid, settings);
      engine.add(r[0]);
      pagesPerSec.add(r[1]);
      freezeMs.add(r[2]);
      freezeMs.add(r[3]);
      double[] one = engineRounds(pid, single);
      freeze1Ms.add(one[2]);
      freeze1Ms.add(one[3]);
      raw.add(floor(readerExe, "read", pid, address, bytes, 1));
      pagemapMs.add(floor(readerExe, "pagemap", pid, address, bytes, n));
      pagemap1Ms.add(floor(readerExe, "pagemap", pid, address, bytes, 1));
    }
    List<Double> hash = new ArrayList<>();
    try (ContentHashSession s = new ContentHashSession(pid, settings, "benchmark")) {
      s.capture().copy(new CountingSink()); // round 1: every page is new
      for (int i = 0; i < rounds; i++) {
        CopyFigures f = s.capture().copy(new CountingSink());
        hash.add(f.bytesRead() / (f.copyTime().toNanos() / 1e9) / 1e9);
      }
    }
    double engineGbps = median(engine);
    double pvrGbps = median(raw);
    double ratio = engineGbps / pvrGbps;
    System.out.println();
    System.out.printf(Locale.ROOT, "%-40s %10s %10s %10s%n", "figure (" + rounds + " reps)", "min", "median", "max");
    row("engine full round GB/s", engine);
    row("engine full round Mpages/s", scale(pagesPerSec, 1e-6));
    row("raw process_vm_readv GB/s (C)", raw);
    row("freeze window ms, " + n + " threads (goal <= 25)", freezeMs);
    row("freeze window ms, 1 thread", freeze1Ms);
    row("  floor: C pagemap read ms, " + n + " threads", pagemapMs);
    row("  floor: C pagemap read ms, 1 thread", pagemap1Ms);
    row("hash tracker round GB/s", hash);
    System.out.printf(Locale.ROOT, "%-40s %10s %10.2f%n", "engine / raw ratio (goal >= 0.8)", "", ratio);
    System.out.printf(Locale.ROOT, "%-40s %10s %10.2f%n", "freeze / C floor, " + n + " threads", "", median(freezeMs) / median(pagemapMs));
    System.out.printf(Locale.ROOT,
        "engine_gbps=%.2f engine_mpages_s=%.2f pvr_gbps=%.2f ratio=%.2f freeze_ms=%.1f freeze_1t_ms=%.1f pagemap_threads=%d"
            + " pagemap_floor_ms=%.1f pagemap_floor_1t_ms=%.1f hash_gbps=%.2f%n",
        engineGbps, median(pagesPerSec) / 1e6, pvrGbps, ratio, median(freezeMs), median(freeze1Ms), n,
        median(pagemapMs), median(pagemap1Ms), median(hash));
    return 0;
  }

  /**
   * Two captures of a fresh soft-dirty session: round 1 (a full round, copied: GB/s, pages/s)
   * and round 2 (a dirty round: on a kernel without soft-dirty nothing is dirty, but the freeze
   * reads the same entries). Returns GB/s, pages/s, freeze ms of round 1, freeze ms of round 2.
   */
  private static double[] engineRounds(int pid, TrackerSettings settings) throws Exception {
    try (SoftDirtySession s = new SoftDirtySession(pid, settings, "benchmark: a full first round")) {
      CapturedRound r = s.capture();
      System.out.println("  round 1 freeze " + s.lastBreakdown());
      CountingSink sink = new CountingSink();
      CopyFigures f = r.copy(sink);
      double secs = f.copyTime().toNanos() / 1e9;
      CapturedRound second = s.capture();
      System.out.println("  round 2 freeze " + s.lastBreakdown());
      second.copy(new CountingSink());
      return new double[] {f.bytesRead() / secs / 1e9, f.dirtyPages() / secs, r.freezeWindow().toNanos() / 1e6,
          second.freezeWindow().toNanos() / 1e6};
    }
  }

  /** Runs the C reader once: "read" gives GB/s, "pagemap" gives ms (with {@code threads} readers). */
  private static double floor(Path exe, String mode, int pid, String address, long bytes, int threads)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(exe.toString(), mode, Integer.toString(pid), address, Long.toString(bytes), "1"));
    if (mode.equals("pagemap")) {
      cmd.add(Integer.toString(threads));
    }
    Process p = new ProcessBuilder(cmd)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
    String[] kv = line.split(" ");
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || kv.length != 2) {
      throw new IOException("pvr_reader " + mode + " failed: " + line);
    }
    return Double.parseDouble(kv[1]);
  }

  private static Path compile(Path dir, String name) throws IOException, InterruptedException {
    Path src = dir.resolve(name + ".c");
    try (InputStream in = EngineBench.class.getResourceAsStream(name + ".c")) {
      if (in == null) {
        throw new IOException("resource " + name + ".c missing from the jar");
      }
      Files.copy(in, src);
    }
    Path exe = dir.resolve(name);
    Process gcc = new ProcessBuilder("gcc", "-O2", "-pthread", "-o", exe.toString(), src.toString()).redirectErrorStream(true).start();
    String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!gcc.waitFor(120, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
      throw new IOException("gcc could not build " + name + ".c (is gcc installed?): " + log);
    }
    return exe;
  }

  private static void row(String name, List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    System.out.printf(Locale.ROOT, "%-40s %10.2f %10.2f %10.2f%n", name, s.get(0), median(v), s.get(s.size() - 1));
  }

  private static List<Double> scale(List<Double> v, double f) {
    List<Double> out = new ArrayList<>();
    for (double d : v) {
      out.add(d * f);
    }
    return out;
  }

  static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  /** "1GiB", "256MiB", "64KiB", "1G", "4096". */
  static long parseSize(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace("ib", "").replace("b", "");
    long unit = 1;
    char last = t.charAt(t.length() - 1);
    if (last == 'k' || last == 'm' || last == 'g' || last == 't') {
      unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : last == 'g' ? 1L << 30 : 1L << 40;
      t = t.substring(0, t.length() - 1);
    }
    return (long) (Double.parseDouble(t) * unit);
  }
}
