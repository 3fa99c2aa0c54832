package dev.ferry.agent.store;

import dev.ferry.agent.tracking.AddressRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The entry log of one round layer, {@code round-N.log}: which pages the round stored where, and
 * which areas it dropped. Written as {@code round-N.log.tmp} while the round runs and renamed at
 * commit, so a log that exists under its final name is complete (its trailer's CRC32C says so).
 *
 * <p>Format (little-endian): header {@code magic u32, round i32, removals i32, removals x (pid
 * i32, start i64, end i64)}, then records {@code pid i32, address i64, hash i64, location i64}
 * (location: page index in {@code round-N.pages}, or -1 for an all-zero page), then a trailer
 * record with pid -1, address = record count, hash = CRC32C of every byte before the trailer.
 */
final class RoundLog {
  static final int MAGIC = 0x31595246; // "FRY1"
  static final int RECORD_BYTES = 4 + 8 + 8 + 8;
  static final long ZERO_LOCATION = -1;

  /** One removal of an area. */
  record Removal(int pid, AddressRange range) {}

  /** One stored page. */
  record Entry(int pid, long address, long hash, long location) {}

  /** What replay() hands back, record by record. */
  interface Replay {
    void removal(Removal removal);

    void entry(Entry entry);
  }

  private RoundLog() {}

  /** Appends records; confined to the round's thread. */
  static final class Writer implements AutoCloseable {
    private final FileChannel channel;
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer scratch;
    private long records;

    Writer(Path tmp, int round, List<Removal> removals) throws IOException {
      channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      scratch = ByteBuffer.allocate(Math.max(64 * 1024, 12 + removals.size() * 20)).order(ByteOrder.LITTLE_ENDIAN);
      scratch.putInt(MAGIC).putInt(round).putInt(removals.size());
      for (Removal r : removals) {
        scratch.putInt(r.pid()).putLong(r.range().start()).putLong(r.range().end());
      }
      writeScratch();
    }

    /** Writes one batch's records; all or (on failure) an exception and a log to throw away. */
    void append(List<Entry> entries) throws IOException {
      for (Entry e : entries) {
        if (scratch.remaining() < RECORD_BYTES) {
          writeScratch();
        }
        scratch.putInt(e.pid()).putLong(e.address()).putLong(e.hash()).putLong(e.location());
        records++;
      }
      writeScratch();
    }

    /** Writes the trailer and forces the log to disk. */
    void finish() throws IOException {
      long value = crc.getValue();
      scratch.putInt(-1).putLong(records).putLong(value).putLong(0);
      writeScratch();
      channel.force(true);
    }

    private void writeScratch() throws IOException {
      scratch.flip();
      crc.update(scratch.duplicate());
      while (scratch.hasRemaining()) {
        channel.write(scratch);
      }
      scratch.clear();
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /**
   * Replays a committed log. Throws {@link StoreException} (CORRUPT) when the log is truncated,
   * its CRC does not match, or it names another round.
   */
  static void replay(Path log, int expectedRound, Replay sink) throws StoreException {
    try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ)) {
      long size = channel.size();
      ByteBuffer in = ByteBuffer.allocate(256 * 1024).order(ByteOrder.LITTLE_ENDIAN);
      CRC32C crc = new CRC32C();
      Reader reader = new Reader(channel, in, crc);
      if (size < 12 || reader.getInt() != MAGIC) {
        throw corrupt(log, "bad magic or too short");
      }
      int round = reader.getInt();
      if (round != expectedRound) {
        throw corrupt(log, "names round " + round);
      }
      int removals = reader.getInt();
      List<Removal> removed = new ArrayList<>();
      for (int i = 0; i < removals; i++) {
        removed.add(new Removal(reader.getInt(), new AddressRange(reader.getLong(), reader.getLong())));
      }
      removed.forEach(sink::removal);
      long records = 0;
      while (true) {
        long crcBefore = crc.getValue();
        reader.record();
        int pid = reader.getInt();
        long address = reader.getLong();
        long hash = reader.getLong();
        long location = reader.getLong();
        if (pid == -1) {
          // The trailer's CRC covers everything before it.
          if (address != records || hash != crcBefore) {
            throw corrupt(log, "trailer does not match (records " + address + " vs " + records + ")");
          }
          return;
        }
        sink.entry(new Entry(pid, address, hash, location));
        records++;
      }
    } catch (java.io.EOFException e) {
      throw corrupt(log, "truncated");
    } catch (IOException e) {
      throw StoreException.fromIo("reading " + log, e);
    }
  }

  private static StoreException corrupt(Path log, String why) {
    return new StoreException(StoreException.Kind.CORRUPT, "round log " + log + " is damaged: " + why);
  }

  /** Sequential little-endian reads that keep a running CRC32C of the bytes consumed. */
  private static final class Reader {
    private final FileChannel channel;
    private final ByteBuffer in;
    private final CRC32C crc;
    long consumed;

    Reader(FileChannel channel, ByteBuffer in, CRC32C crc) {
      this.channel = channel;
      this.in = in;
      this.crc = crc;
      in.limit(0);
    }

    private void need(int n) throws IOException {
      if (in.remaining() >= n) {
        return;
      }
      in.compact();
      while (in.position() < n) {
        if (channel.read(in) < 0) {
          throw new java.io.EOFException();
        }
      }
      in.flip();
    }

    // From the heap array: a duplicate() per field was most of a commit's replay (every commit
    // replays its round's log into the index).
    private void account(int start, int n) {
      crc.update(in.array(), in.arrayOffset() + start, n);
      consumed += n;
    }

    /** Makes the next whole record readable (one refill per record, not per field). */
    void record() throws IOException {
      need(RECORD_BYTES);
    }

    int getInt() throws IOException {
      need(4);
      int p = in.position();
      int v = in.getInt();
      account(p, 4);
      return v;
    }

    long getLong() throws IOException {
      need(8);
      int p = in.position();
      long v = in.getLong();
      account(p, 8);
      return v;
    }
  }
}
