package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.TrackingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Reads the raw /proc/PID/pagemap entries of many ranges of several processes into one buffer,
 * the work split across threads, each thread with positional reads on file descriptors of its
 * own. Nothing is decoded here: inside a freeze the window holds only the kernel's work (it
 * builds one 8-byte entry per page: 1 GiB of memory = 256 Ki entries, 20-40 ms on one core of the
 * reference host); the entries are classified after the thaw.
 *
 * <p>Why threads help: the kernel walks the page tables of each read under the mm's mmap_lock
 * taken for reading, 2 MiB of address space at a time, so readers of one process proceed in
 * parallel. Shares are cut at 2 MiB address boundaries so that no page table is walked by two
 * threads.
 *
 * <p>Memory: the buffer holds one entry per page of every range read (8 bytes per 4 KiB, 0.2 %
 * of the address space read), is reused across rounds and only grows; a direct buffer's int
 * limit caps a round at about 1 TiB of copyable address space (a typed UNSUPPORTED beyond).
 *
 * <p>Lifecycle: one per session, {@link #close()} stops its threads. Confined to the session
 * thread except for the pool threads inside {@link Batch#read()}; each thread writes only its own
 * disjoint pieces of the buffer, and {@link Batch#read()} returns only after every piece is done
 * (Future.get gives the happens-before for the caller's later reads).
 */
public final class ParallelPagemap implements AutoCloseable {
  /** Entries of one page table: 2 MiB of address space. */
  private static final int TABLE_ENTRIES = 512;
  private static final long MAX_BYTES = Integer.MAX_VALUE - 4L * PageSize.BYTES;

  private final int threads;
  private final ExecutorService pool;
  private ByteBuffer buffer = AlignedBuffers.allocate(PageSize.BYTES);

  /** The ranges of one process whose entries to read. */
  public record Target(int pid, List<AddressRange> ranges) {
    public Target {
      ranges = List.copyOf(ranges);
    }
  }

  /** @param threads readers per batch, the calling thread included (1 = no pool) */
  public ParallelPagemap(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("pagemap threads must be >= 1: " + threads);
    }
    this.threads = threads;
    AtomicInteger n = new AtomicInteger();
    if (threads == 1) {
      this.pool = null;
    } else {
      ThreadPoolExecutor p = new ThreadPoolExecutor(threads - 1, threads - 1, 0, TimeUnit.MILLISECONDS,
          new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "ferry-pagemap-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
          });
      p.prestartAllCoreThreads(); // not inside the first freeze
      this.pool = p;
    }
  }

  public int threads() {
    return threads;
  }

  /**
   * Plans the reads of {@code targets} and opens their pagemap files (do this before a freeze:
   * opening checks ptrace access and costs a little). A target that cannot be opened (exited,
   * permission) is recorded as that target's {@link Batch#failure}. Invalidates the entries of
   * any earlier batch (the buffer is reused).
   */
  public Batch prepare(List<Target> targets) throws TrackingException {
    long total = 0;
    for (Target t : targets) {
      for (AddressRange r : t.ranges()) {
        total += r.bytes() >>> PageSize.SHIFT;
      }
    }
    long bytes = total * PagemapEntry.BYTES;
    if (bytes > MAX_BYTES) {
      throw new TrackingException(TrackingException.Reason.UNSUPPORTED, targets.get(0).pid(),
          "copyable address space of " + (total >>> 18) + " GiB is beyond what one round reads ("
              + (MAX_BYTES / PagemapEntry.BYTES >>> 18) + " GiB)");
    }
    if (buffer.capacity() < bytes) {
      // grow in whole MiB so that small changes of the layout do not reallocate every round
      buffer = AlignedBuffers.allocate((int) Math.min(MAX_BYTES, (bytes + (1 << 20) - 1) & -(1L << 20)));
    }
    return new Batch(targets, total);
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }

  /** One contiguous read: entries of one process into one place of the buffer. */
  private record Piece(int target, FileChannel channel, long position, int offset, int bytes) {}

  /** The planned reads of one round; read once, then decode the entries. Close to release the files. */
  public final class Batch implements AutoCloseable {
    private final List<Target> targets;
    private final ByteBuffer into = buffer;
    private final long[][] offsets;
    private final FileChannel[][] channels;
    private final List<List<Piece>> byThread = new ArrayList<>();
    private final AtomicReferenceArray<TrackingException> failures;

    private Batch(List<Target> targets, long total) {
      this.targets = List.copyOf(targets);
      this.offsets = new long[targets.size()][];
      this.channels = new FileChannel[targets.size()][threads];
      this.failures = new AtomicReferenceArray<>(targets.size());
      for (int t = 0; t < threads; t++) {
        byThread.add(new ArrayList<>());
      }
      long share = threads == 1 ? Long.MAX_VALUE
          : ((total + threads - 1) / threads + TABLE_ENTRIES - 1) / TABLE_ENTRIES * TABLE_ENTRIES;
      long cursor = 0;
      for (int i = 0; i < targets.size(); i++) {
        List<AddressRange> ranges = targets.get(i).ranges();
        offsets[i] = new long[ranges.size()];
        for (int j = 0; j < ranges.size(); j++) {
          offsets[i][j] = cursor;
          long first = ranges.get(j).start() >>> PageSize.SHIFT;
          long pages = ranges.get(j).bytes() >>> PageSize.SHIFT;
          long done = 0;
          while (done < pages) {
            int thread = (int) Math.min(threads - 1, (cursor + done) / share);
            long n = pages - done;
            if (thread < threads - 1) {
              n = Math.min(n, Math.max(1, (thread + 1) * share - (cursor + done)));
              if (n < pages - done) { // end the piece on a page-table boundary of the address space
                long end = (first + done + n + TABLE_ENTRIES - 1) / TABLE_ENTRIES * TABLE_ENTRIES;
                n = Math.min(pages - done, end - first - done);
              }
            }
            FileChannel ch = channel(i, thread);
            if (ch != null) {
              byThread.get(thread).add(new Piece(i, ch, (first + done) * PagemapEntry.BYTES,
                  (int) ((cursor + done) * PagemapEntry.BYTES), (int) (n * PagemapEntry.BYTES)));
            }
            done += n;
          }
          cursor += pages;
        }
      }
    }

    private FileChannel channel(int target, int thread) {
      if (failures.get(target) != null) {
        return null;
      }
      if (channels[target][thread] == null) {
        int pid = targets.get(target).pid();
        Path file = Path.of("/proc", Integer.toString(pid), "pagemap");
        try {
          channels[target][thread] = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
          failures.compareAndSet(target, null, ProcErrors.of(e, pid, file.toString()));
          return null;
        }
      }
      return channels[target][thread];
    }

    /**
     * Reads every piece: pool threads take shares 1..n-1, the caller share 0. Returns once every
     * piece is done, also when interrupted (then throws after the wait, so no thread still
     * writes into the buffer). A target whose read fails is recorded in {@link #failure}.
     */
    public void read() throws InterruptedException {
      List<Future<?>> running = new ArrayList<>();
      for (int t = 1; t < threads; t++) {
        List<Piece> mine = byThread.get(t);
        if (!mine.isEmpty()) {
          running.add(pool.submit(() -> readPieces(mine)));
        }
      }
      readPieces(byThread.get(0));
      boolean interrupted = false;
      for (Future<?> f : running) {
        while (true) {
          try {
            f.get();
            break;
          } catch (InterruptedException e) {
            interrupted = true;
          } catch (ExecutionException e) {
            throw new IllegalStateException("pagemap reader failed", e.getCause());
          }
        }
      }
      if (interrupted) {
        throw new InterruptedException("interrupted while reading pagemap");
      }
    }

    private void readPieces(List<Piece> pieces) {
      for (Piece p : pieces) {
        if (failures.get(p.target()) != null) {
          continue;
        }
        int pid = targets.get(p.target()).pid();
        ByteBuffer dst = into.duplicate();
        dst.limit(p.offset() + p.bytes()).position(p.offset());
        try {
          while (dst.hasRemaining()) {
            int r = p.channel().read(dst, p.position() + dst.position() - p.offset());
            if (r <= 0) {
              // the pagemap of an exited process reads empty
              failures.compareAndSet(p.target(), null, new TrackingException(TrackingException.Reason.PROCESS_EXITED, pid,
                  "process " + pid + " exited (pagemap read returned " + r + ")"));
              break;
            }
          }
        } catch (IOException e) {
          failures.compareAndSet(p.target(), null, ProcErrors.of(e, pid, "/proc/" + pid + "/pagemap"));
        }
      }
    }

    /** Why target {@code i} could not be read, or null. */
    public TrackingException failure(int i) {
      return failures.get(i);
    }

    /** The raw entries of range {@code j} of target {@code i} (valid until the next prepare). */
    public LongBuffer entries(int i, int j) {
      int from = (int) (offsets[i][j] * PagemapEntry.BYTES);
      int len = (int) (targets.get(i).ranges().get(j).bytes() >>> PageSize.SHIFT) * PagemapEntry.BYTES;
      ByteBuffer b = into.duplicate();
      b.limit(from + len).position(from);
      return b.slice().order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    /** Pieces per thread, for figures and tests. */
    public List<Integer> piecesPerThread() {
      List<Integer> out = new ArrayList<>();
      for (List<Piece> p : byThread) {
        out.add(p.size());
      }
      return out;
    }

    @Override
    public void close() {
      for (FileChannel[] row : channels) {
        for (FileChannel ch : row) {
          if (ch != null) {
            try {
              ch.close();
            } catch (IOException ignored) {
              // a /proc file: nothing to flush
            }
          }
        }
      }
    }
  }
}
