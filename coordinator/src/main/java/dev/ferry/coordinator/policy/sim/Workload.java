package dev.ferry.coordinator.policy.sim;

/**
 * A model of how a process dirties memory: expected counts, not random draws, so every run of the
 * simulator gives the same figures.
 */
public interface Workload {
  String name();

  /** Copyable pages at time {@code at} (seconds since pre-copy began). */
  long totalPages(double at);

  /**
   * Distinct pages written during {@code running} seconds of the process running (throttling
   * shortens it), the interval starting at {@code at}.
   */
  long dirtied(double at, double running);

  /** Uniform random writes over all of memory at {@code pagesPerSecond}. */
  static Workload uniform(String name, long pages, double pagesPerSecond) {
    return new Workload() {
      public String name() {
        return name;
      }

      public long totalPages(double at) {
        return pages;
      }

      public long dirtied(double at, double running) {
        return distinct(pages, pagesPerSecond * running);
      }
    };
  }

  /** A hot set written fast, the rest written rarely. */
  static Workload hotCold(String name, long pages, long hotPages, double hotRate, double coldRate) {
    return new Workload() {
      public String name() {
        return name;
      }

      public long totalPages(double at) {
        return pages;
      }

      public long dirtied(double at, double running) {
        return distinct(hotPages, hotRate * running) + distinct(pages - hotPages, coldRate * running);
      }
    };
  }

  /** Writes over a working set that grows by new pages at {@code growthPerSecond}. */
  static Workload growing(String name, long basePages, long initialSet, double growthPerSecond, double rate) {
    return new Workload() {
      public String name() {
        return name;
      }

      public long totalPages(double at) {
        return basePages + Math.round(growthPerSecond * at);
      }

      public long dirtied(double at, double running) {
        long set = initialSet + Math.round(growthPerSecond * at);
        return distinct(set, rate * running) + Math.round(growthPerSecond * running);
      }
    };
  }

  /** Expected distinct pages hit by {@code writes} uniform writes over {@code pages} pages. */
  static long distinct(long pages, double writes) {
    if (pages <= 0 || writes <= 0) {
      return 0;
    }
    return Math.round(pages * -Math.expm1(-writes / pages));
  }
}
