package dev.ferry.agent.criu;

import dev.ferry.proto.criu.DumpStatsEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The figures of CRIU's {@code stats-dump} image (dump_stats_entry).
 *
 * @param pagesSkippedParent pages CRIU found unchanged and left to the parent image: 0 means the
 *     parent was not used (CRIU fell back to a full dump)
 */
public record DumpStats(
    Duration freezingTime,
    Duration frozenTime,
    Duration memdumpTime,
    Duration memwriteTime,
    long pagesScanned,
    long pagesSkippedParent,
    long pagesWritten) {

  public boolean parentUsed() {
    return pagesSkippedParent > 0;
  }

  /** Reads {@code dir/stats-dump} (framing and magic checked by {@link dev.ferry.agent.criu.image.DumpStats}). */
  public static DumpStats read(Path dir) throws IOException {
    DumpStatsEntry d = dev.ferry.agent.criu.image.DumpStats.read(dir.resolve("stats-dump"));
    return new DumpStats(micros(d.getFreezingTime()), micros(d.getFrozenTime()), micros(d.getMemdumpTime()),
        micros(d.getMemwriteTime()), d.getPagesScanned(), d.getPagesSkippedParent(), d.getPagesWritten());
  }

  private static Duration micros(int unsigned) {
    return Duration.ofNanos(Integer.toUnsignedLong(unsigned) * 1000);
  }
}
