package dev.ferry.agent.store;

import dev.ferry.agent.transfer.AlignedBuffers;
import dev.ferry.agent.transfer.PageHashing;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends a round's page data to {@code round-N.pages} behind the receiving thread: the caller
 * copies each batch into one of a few page-aligned staging buffers ({@link Staging}, bounded) and
 * returns at once; one writer thread writes full buffers with {@code O_DIRECT} where the file
 * system allows it, buffered otherwise.
 *
 * <p>Why direct I/O: measured on the development VM, writing 1 GiB through the page cache took
 * 6 s of wall time and 1.7 s of CPU (every new page-cache page is fresh guest memory, faulted in
 * by the hypervisor) against 1.4 s wall and 0.15 s CPU with {@code O_DIRECT}, and the commit's
 * fsync then had 1 GiB of dirty pages to flush. The round file is read back only at switch-over
 * (and by a reopen), so caching it buys nothing on the hot path. Why a thread: a direct write
 * returns only when the device has the data; off the gRPC thread it overlaps with the next
 * batch's parsing and CRC check instead of stalling the stream.
 *
 * <p>Crash safety is unchanged: nothing counts until {@link RoundWriter#commit} has {@link
 * #drain drained} this writer, forced the file (device cache and size) and renamed the log.
 *
 * <p>Threading: {@link #append}, {@link #drain} and {@link #close} from the round's thread (gRPC
 * serializes a call's callbacks); the writer thread only writes and recycles buffers. Memory:
 * {@link Staging#BUFFERS} x {@link Staging#BUFFER_BYTES} of direct memory per store, reused.
 */
final class PageFileWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PageFileWriter.class);
  static final ByteBuffer STOP = ByteBuffer.allocate(0);
  /**
   * The writer thread forces the data written so far to the device every this many bytes, so
   * that the commit's force has at most this much left: a direct write lands in the device's
   * (here: the hypervisor's) write cache, and flushing a whole 1 GiB round at commit took
   * ~0.7 s (dd oflag=direct with and without conv=fsync) on the acknowledgement path, while
   * the round's stream was idle. Flushed behind the stream instead, by a second thread: forcing
   * on the writer thread itself stalled the writes behind each flush (measured: commit
   * 1548 -> 302 ms, but the stream 8.8 -> 12.6 s).
   */
  static final long FORCE_EVERY_BYTES = 64L << 20;

  /** The staging buffers of one store, reused round after round (one round writes at a time). */
  static final class Staging {
    static final int BUFFER_BYTES = 1 << 20;
    static final int BUFFERS = 8;
    final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
    private boolean allocated;

    /** Fills the pool on first use (direct memory, off the heap). */
    synchronized void ensure() {
      if (!allocated) {
        for (int i = 0; i < BUFFERS; i++) {
          free.add(AlignedBuffers.allocate(BUFFER_BYTES));
        }
        allocated = true;
      }
    }
  }

  /** A staging buffer to write at a file offset. */
  record Job(ByteBuffer buffer, long offset) {}

  private final Path file;
  private final FileChannel channel;
  private final boolean direct;
  private final Staging staging;
  private final BlockingQueue<Job> queue = new ArrayBlockingQueue<>(Staging.BUFFERS + 1);
  private final Thread thread;
  private final Thread forcer;
  private final java.util.concurrent.Semaphore forceRequests = new java.util.concurrent.Semaphore(0);
  private volatile boolean closing;
  private final long forceEveryBytes;
  private volatile IOException failure;
  private ByteBuffer filling; // round thread only
  private long fillingAt; // file offset of filling's first byte
  private long appended; // bytes appended so far (the next offset)
  // Where the time goes (logged per round): the round thread waiting for a free staging buffer
  // means the disk is the bottleneck, not the stream.
  private long stagingWaitNanos; // round thread
  private volatile long writeNanos; // writer thread; read after drain

  /** Creates {@code file} (which must not exist) and starts the writer thread. */
  PageFileWriter(Path file, Staging staging, String name) throws IOException {
    this(file, staging, name, FORCE_EVERY_BYTES);
  }

  /** As above, forcing every {@code forceEveryBytes} written (tests use a small value). */
  PageFileWriter(Path file, Staging staging, String name, long forceEveryBytes) throws IOException {
    this.forceEveryBytes = forceEveryBytes;
    this.file = file;
    this.staging = staging;
    staging.ensure();
    // Created buffered first: CREATE_NEW keeps "this round's file did not exist", and a file
    // system without O_DIRECT (tmpfs before Linux 6.6) fails the direct open after creating it.
    FileChannel buffered = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    FileChannel chosen = buffered;
    boolean isDirect = false;
    try {
      if (PageHashing.PAGE % Files.getFileStore(file).getBlockSize() == 0) {
        chosen = FileChannel.open(file, StandardOpenOption.WRITE, com.sun.nio.file.ExtendedOpenOption.DIRECT);
        isDirect = true;
        buffered.close();
      }
    } catch (IOException | UnsupportedOperationException e) {
      log.debug("{}: no direct I/O ({}), writing through the page cache", file, e.toString());
    }
    this.channel = chosen;
    this.direct = isDirect;
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
    forcer = new Thread(this::forceLoop, name + "-force");
    forcer.setDaemon(true);
    forcer.start();
  }

  boolean direct() {
    return direct;
  }

  /**
   * Appends {@code data} (position to limit, a multiple of 4096 bytes; consumed). Blocks only
   * while every staging buffer is being written (the bound). Throws the writer's failure, if any.
   */
  void append(ByteBuffer data) throws IOException {
    checkFailure();
    while (data.hasRemaining()) {
      if (filling == null) {
        filling = take();
        fillingAt = appended;
      }
      int n = Math.min(filling.remaining(), data.remaining());
      int limit = data.limit();
      data.limit(data.position() + n);
      filling.put(data);
      data.limit(limit);
      appended += n;
      if (!filling.hasRemaining()) {
        submit();
      }
    }
  }

  /** Writes what is staged and waits until every byte appended is written; throws the writer's failure. */
  void drain() throws IOException {
    if (filling != null) {
      submit();
    }
    ByteBuffer[] all = new ByteBuffer[Staging.BUFFERS];
    for (int i = 0; i < all.length; i++) {
      all[i] = take(); // every buffer back in the pool: every write finished
    }
    for (ByteBuffer b : all) {
      staging.free.add(b);
    }
    checkFailure();
  }

  /** Forces the written data and the file size to the device (after {@link #drain}). */
  void force() throws IOException {
    channel.force(true);
  }

  /** Stops the writer thread (pending writes finish or fail) and closes the file. Idempotent. */
  @Override
  public void close() throws IOException {
    if (filling != null) {
      filling.clear();
      staging.free.add(filling);
      filling = null;
    }
    closing = true;
    forceRequests.release();
    if (thread.isAlive()) {
      queue.add(new Job(STOP, -1));
      try {
        thread.join(TimeUnit.MINUTES.toMillis(1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      forcer.join(TimeUnit.MINUTES.toMillis(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    channel.close();
  }

  /** Flushes the device cache when the writer asks (see FORCE_EVERY_BYTES); failures surface at drain. */
  private void forceLoop() {
    while (true) {
      try {
        forceRequests.acquire();
      } catch (InterruptedException e) {
        return;
      }
      if (closing) {
        return;
      }
      try {
        channel.force(false);
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
  }

  private void submit() throws IOException {
    ByteBuffer b = filling;
    filling = null;
    b.flip();
    if (!queue.offer(new Job(b, fillingAt))) {
      throw new IllegalStateException("page writer queue full"); // cannot happen: one slot per buffer, plus STOP
    }
  }

  /** Time the round thread waited for a free staging buffer (every buffer queued for writing). */
  long stagingWaitNanos() {
    return stagingWaitNanos;
  }

  /** Time the writer thread spent in write calls (meaningful after {@link #drain}). */
  long writeNanos() {
    return writeNanos;
  }

  private ByteBuffer take() throws IOException {
    try {
      ByteBuffer b = staging.free.poll();
      if (b == null) {
        long from = System.nanoTime();
        b = staging.free.poll(5, TimeUnit.MINUTES);
        stagingWaitNanos += System.nanoTime() - from;
      }
      if (b == null) {
        throw new IOException("writing " + file + ": the page writer made no progress for 5 minutes");
      }
      b.clear();
      return b;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to write " + file);
    }
  }

  private void checkFailure() throws IOException {
    IOException f = failure;
    if (f != null) {
      throw f;
    }
  }

  private void run() {
    long unforced = 0;
    while (true) {
      Job job;
      try {
        job = queue.take();
      } catch (InterruptedException e) {
        return; // only close() stops us, by STOP; an interrupt from elsewhere ends the thread
      }
      if (job.buffer() == STOP) {
        return;
      }
      ByteBuffer[] gathered = gather(job, queue, Staging.BUFFERS).stream().map(Job::buffer).toArray(ByteBuffer[]::new);
      try {
        if (failure == null) {
          long from = System.nanoTime();
          unforced += write(gathered, job.offset());
          writeNanos += System.nanoTime() - from; // only this thread writes it
          if (unforced >= forceEveryBytes) {
            if (forceRequests.availablePermits() == 0) {
              forceRequests.release(); // at most one pending: a flush covers everything written before it
            }
            unforced = 0;
          }
        }
      } catch (IOException e) {
        failure = e;
      } catch (RuntimeException e) {
        failure = new IOException(e.toString(), e);
      } finally {
        for (ByteBuffer b : gathered) {
          b.clear();
          staging.free.add(b);
        }
      }
    }
  }

  /**
   * {@code first} and the jobs queued right behind it that continue it in the file: written with
   * one call. Why: this disk (virtio, measured with dd oflag=direct on an idle host) writes 1 GiB
   * in 1 MiB writes at ~1.0 GB/s but in 4 MiB writes at ~1.9 GB/s, and a queue builds up exactly
   * when the disk is behind, so the writes grow when it matters and stay prompt otherwise. At
   * most {@code most} jobs; never past the STOP marker.
   */
  static List<Job> gather(Job first, BlockingQueue<Job> queue, int most) {
    List<Job> jobs = new ArrayList<>(most);
    jobs.add(first);
    long end = first.offset() + first.buffer().remaining();
    for (Job next; jobs.size() < most && (next = queue.peek()) != null && next.buffer() != STOP && next.offset() == end; ) {
      queue.poll(); // only the writer thread takes from the queue: the peeked job is the one removed
      jobs.add(next);
      end += next.buffer().remaining();
    }
    return jobs;
  }

  /** Writes {@code buffers} (consumed) at file offset {@code at}; returns the bytes written. */
  private long write(ByteBuffer[] buffers, long at) throws IOException {
    if (buffers.length == 1) {
      long n = 0;
      while (buffers[0].hasRemaining()) {
        n += channel.write(buffers[0], at + n);
      }
      return n;
    }
    // No positional gathering write in FileChannel: position the channel (only this thread moves
    // it; the force thread does not use it), then write the buffers as one writev.
    channel.position(at);
    long n = 0;
    while (buffers[buffers.length - 1].hasRemaining()) {
      n += channel.write(buffers);
    }
    return n;
  }
}
