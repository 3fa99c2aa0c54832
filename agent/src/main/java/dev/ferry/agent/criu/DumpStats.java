package dev.ferry.agent.criu;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.proto.criu.DumpStatsEntry;
import dev.ferry.proto.criu.StatsEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
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

  /** Reads {@code dir/stats-dump}. */
  public static DumpStats read(Path dir) throws IOException {
    return parse(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("stats-dump"))));
  }

  static DumpStats parse(ByteBuffer image) throws IOException {
    int first = CriuImageFormat.readMagic(image);
    int magic = first == CriuImageFormat.MAGIC_IMG_SERVICE || first == CriuImageFormat.MAGIC_IMG_COMMON
        ? CriuImageFormat.readMagic(image) : first;
    if (magic != CriuImageFormat.MAGIC_STATS) {
      throw new IOException("not a CRIU stats image (magic " + Integer.toHexString(magic) + ")");
    }
    CodedInputStream entry = CriuImageFormat.nextEntry(image);
    if (entry == null) {
      throw new IOException("stats image has no entry");
    }
    StatsEntry stats;
    try {
      stats = StatsEntry.parseFrom(entry);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("malformed stats entry: " + e.getMessage(), e);
    }
    if (!stats.hasDump()) {
      throw new IOException("stats entry has no dump statistics (a restore stats image?)");
    }
    DumpStatsEntry d = stats.getDump();
    return new DumpStats(micros(d.getFreezingTime()), micros(d.getFrozenTime()), micros(d.getMemdumpTime()),
        micros(d.getMemwriteTime()), d.getPagesScanned(), d.getPagesSkippedParent(), d.getPagesWritten());
  }

  private static Duration micros(int unsigned) {
    return Duration.ofNanos(Integer.toUnsignedLong(unsigned) * 1000);
  }
}
