package dev.ferry.agent.criu.image;

import dev.ferry.proto.criu.DumpStatsEntry;
import dev.ferry.proto.criu.StatsEntry;
import java.io.IOException;
import java.nio.file.Path;

/** Reads CRIU's {@code stats-dump}: e.g. pages_skipped_parent > 0 shows the parent was used. */
public final class DumpStats {
  private DumpStats() {}

  public static DumpStatsEntry read(Path statsDump) throws IOException {
    CriuImageFile.Image image = CriuImageFile.read(statsDump);
    if (image.magic() != CriuMagic.STATS) {
      throw new IOException(statsDump + " is a " + image.magic() + " image, not stats");
    }
    StatsEntry stats = CriuImageFile.entry(image, 0, StatsEntry.parser());
    if (!stats.hasDump()) {
      throw new IOException(statsDump + " holds no dump statistics");
    }
    return stats.getDump();
  }
}
