package dev.ferry.agent.criu;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
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
    CodedInputStream stats = CriuImageFormat.nextEntry(image);
    if (stats == null) {
      throw new IOException("stats image has no entry");
    }
    while (true) {
      int tag = stats.readTag();
      if (tag == 0) {
        throw new IOException("stats entry has no dump statistics (a restore stats image?)");
      }
      if (WireFormat.getTagFieldNumber(tag) == CriuImageFormat.STATS_DUMP) {
        return parseDump(CodedInputStream.newInstance(stats.readByteBuffer()));
      }
      stats.skipField(tag);
    }
  }

  private static DumpStats parseDump(CodedInputStream in) throws IOException {
    long[] f = new long[8];
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      int n = WireFormat.getTagFieldNumber(tag);
      if (n >= 1 && n <= 7 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
        f[n] = in.readUInt64();
      } else {
        in.skipField(tag);
      }
    }
    return new DumpStats(
        Duration.ofNanos(f[CriuImageFormat.DUMP_FREEZING_TIME] * 1000),
        Duration.ofNanos(f[CriuImageFormat.DUMP_FROZEN_TIME] * 1000),
        Duration.ofNanos(f[CriuImageFormat.DUMP_MEMDUMP_TIME] * 1000),
        Duration.ofNanos(f[CriuImageFormat.DUMP_MEMWRITE_TIME] * 1000),
        f[CriuImageFormat.DUMP_PAGES_SCANNED],
        f[CriuImageFormat.DUMP_PAGES_SKIPPED_PARENT],
        f[CriuImageFormat.DUMP_PAGES_WRITTEN]);
  }
}
