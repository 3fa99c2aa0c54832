package dev.ferry.bench;

/**
 * What a throughput ratio against the C pipeline allows ferry to spend in CPU. With {@code cpus}
 * cores, moving a GiB at {@code ratio} x the C pipeline's rate takes 1 GiB / (ratio x c) seconds
 * of wall time, so at most {@code cpus} times that in CPU-seconds, whatever ferry does beyond the
 * C pipeline (hashing, the store's writes, CRC checks). Pure figures.
 *
 * @param bytes what the C pipeline moved
 * @param cBytesPerSecond its rate
 * @param cCpuSeconds its two processes' CPU time for {@code bytes}
 * @param cpus cores available to the copy
 */
record CpuBudget(long bytes, double cBytesPerSecond, double cCpuSeconds, int cpus) {
  static final long GIB = 1L << 30;

  /** The C pipeline's CPU-seconds per GiB. */
  double cSecondsPerGib() {
    return cCpuSeconds / ((double) bytes / GIB);
  }

  /** The most CPU-seconds per GiB ferry may spend and still reach {@code ratio} (all cores busy). */
  double ferrySecondsPerGibAt(double ratio) {
    return cpus * GIB / (ratio * cBytesPerSecond);
  }
}
