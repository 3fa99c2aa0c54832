package dev.ferry.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of every thread of this JVM by name, from {@code /proc/self/task/<tid>/schedstat}
 * (nanoseconds on the CPU): unlike ThreadMXBean it includes the JIT compiler and GC threads,
 * which a benchmark's process CPU time counts too. Names are {@code comm} (15 characters) with
 * digits folded to N, so a pool's threads add up.
 */
final class ThreadCpu {
  private ThreadCpu() {}

  /** CPU nanoseconds per thread name (folded), of the threads alive now. */
  static Map<String, Long> snapshot() {
    Map<String, Long> byName = new HashMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String comm = Files.readString(task.resolve("comm"), StandardCharsets.US_ASCII).trim();
          String schedstat = Files.readString(task.resolve("schedstat"), StandardCharsets.US_ASCII).trim();
          long ns = Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
          byName.merge(fold(comm), ns, Long::sum);
        } catch (IOException | RuntimeException gone) {
          // the thread ended while listing: its time is lost from both snapshots alike
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    return byName;
  }

  /**
   * Digits folded to N so a pool's threads add up, except HotSpot's "C1 "/"C2 " prefix: the C1
   * and C2 compilers' shares are told apart (C2 starved of CPU is what delays tier 4).
   */
  static String fold(String comm) {
    boolean compiler = comm.startsWith("C1 ") || comm.startsWith("C2 ");
    String rest = compiler ? comm.substring(2) : comm;
    return (compiler ? comm.substring(0, 2) : "") + rest.replaceAll("[0-9]+", "N");
  }

  /** after - before per name (threads that ended in between count from 0 in after). */
  static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> d = new HashMap<>();
    after.forEach((name, ns) -> d.put(name, Math.max(0, ns - before.getOrDefault(name, 0L))));
    return d;
  }

  /** The JIT compilers' share of a delta (HotSpot names them "C1 CompilerThre", "C2 CompilerThre"). */
  static long compilerNanos(Map<String, Long> delta) {
    return delta.entrySet().stream().filter(e -> e.getKey().contains("CompilerThre")).mapToLong(Map.Entry::getValue).sum();
  }
}
