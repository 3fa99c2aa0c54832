package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads /proc/PID/pagemap with large positional reads into one reusable direct buffer (the
 * kernel fills a whole chunk per read call; 1 GiB of address space is 2 MiB of entries).
 *
 * <p>Confined to one thread. Close it to release the file.
 */
public final class PagemapReader implements AutoCloseable {
  /** Entries per read: 256 Ki entries = 2 MiB buffer = 1 GiB of address space. */
  public static final int DEFAULT_CHUNK_ENTRIES = 256 * 1024;

  private final int pid;
  private final FileChannel channel;
  private final ByteBuffer bytes;
  private final LongBuffer entries;

  public PagemapReader(int pid) throws TrackingException {
    this(pid, DEFAULT_CHUNK_ENTRIES);
  }

  public PagemapReader(int pid, int chunkEntries) throws TrackingException {
    this(pid, AlignedBuffers.allocate(chunkEntries * PagemapEntry.BYTES));
  }

  /**
   * Reads through a caller-owned buffer (a session reuses one across rounds: allocating and
   * zeroing 2 MiB inside the freeze costs time).
   */
  public PagemapReader(int pid, ByteBuffer buffer) throws TrackingException {
    this.pid = pid;
    Path file = Path.of("/proc", Integer.toString(pid), "pagemap");
    try {
      this.channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw ProcErrors.of(e, pid, file.toString());
    }
    this.bytes = buffer.duplicate().order(java.nio.ByteOrder.nativeOrder());
    this.bytes.clear();
    this.bytes.limit(this.bytes.capacity() - this.bytes.capacity() % PagemapEntry.BYTES);
    this.entries = this.bytes.slice().order(java.nio.ByteOrder.nativeOrder()).asLongBuffer();
  }

  /** Receives the entries of consecutive pages. */
  @FunctionalInterface
  public interface EntryVisitor {
    /** {@code entries} holds the entries of pages starting at {@code address}, position 0. */
    void visit(long address, LongBuffer entries, int count);
  }

  /**
   * Reads the entries of [start, end) chunk by chunk and hands each chunk to the visitor (the
   * buffer is reused: valid only during the call).
   */
  public void read(long start, long end, EntryVisitor visitor) throws TrackingException {
    long address = start;
    int chunk = entries.capacity();
    while (Long.compareUnsigned(address, end) < 0) {
      long pages = (end - address) >>> PageSize.SHIFT;
      int n = (int) Math.min(pages, chunk);
      int want = n * PagemapEntry.BYTES;
      bytes.clear().limit(want);
      long position = (address >>> PageSize.SHIFT) * PagemapEntry.BYTES;
      try {
        while (bytes.hasRemaining()) {
          int r = channel.read(bytes, position + bytes.position());
          if (r <= 0) {
            // pagemap of an exited process reads empty
            throw new TrackingException(TrackingException.Reason.PROCESS_EXITED, pid,
                "process " + pid + " exited (pagemap read returned " + r + ")");
          }
        }
      } catch (IOException e) {
        throw ProcErrors.of(e, pid, "/proc/" + pid + "/pagemap");
      }
      entries.clear().limit(n);
      visitor.visit(address, entries, n);
      address += (long) n << PageSize.SHIFT;
    }
  }

  /** The single entry of one page. */
  public long entry(long address) throws TrackingException {
    long[] out = new long[1];
    read(address, address + PageSize.BYTES, (a, e, n) -> out[0] = e.get(0));
    return out[0];
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing to do: a /proc file
    }
  }
}
