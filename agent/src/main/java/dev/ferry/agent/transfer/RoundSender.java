package dev.ferry.agent.transfer;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.tracking.PageSink;
import dev.ferry.proto.Compression;
import dev.ferry.proto.PageBatch;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.RoundAck;
import dev.ferry.proto.RoundHeader;
import dev.ferry.proto.RoundTrailer;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams one round to the destination: the {@link PageSink} the engine's copy feeds. Pages are
 * copied once, into a heap batch of at most {@link #BATCH_PAGES} pages of data, hashed once
 * there (the digest hash and the batch CRC32C come from the same per-page CRC32Cs), and
 * sent only when gRPC says the stream is ready, so at most the transport's bounded window is in
 * flight and the copy thread blocks otherwise (that is the back-pressure on the reader).
 *
 * <p>Every page sent updates the source's {@link PageTable} ledger, from which the digest the
 * destination must acknowledge is computed.
 *
 * <p>Confined to the copy thread, except the response callbacks, which only record the outcome
 * and wake the copy thread. A failed or cancelled stream makes the next sink call throw, so the
 * reader stops promptly.
 */
public final class RoundSender implements PageSink {
  private static final Logger log = LoggerFactory.getLogger(RoundSender.class);
  public static final int BATCH_PAGES = 256;
  private static final int MAX_RUNS = 4096;

  private final RoundHeader header;
  private final PageTable ledger;
  private final PageHashing hashing;
  private final SenderBuffers buffers;
  private final SendOptions options;
  private final BandwidthLimiter limiter;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Responses responses = new Responses();
  private final BatchChecksum.Accumulator check = new BatchChecksum.Accumulator();

  private ClientCallStreamObserver<PageStreamMessage> requests;
  private volatile Status failure;
  private volatile RoundAck ack;
  private volatile boolean completed;

  // The batch being filled (copy thread only).
  private int batchPid = -1;
  private final List<PageRun.Builder> runs = new ArrayList<>();
  private int batchDataPages;
  private int batchPages; // zero and non-zero pages named by the batch, at most RoundWriter.MAX_BATCH_PAGES
  private long sequence;
  private long pagesSent;
  private long zeroPagesSent;
  private long bytesOnWire;
  // Where the copy thread's time goes (logged per round): waiting for the stream to be ready
  // means the transport or the destination is the bottleneck, not the reader.
  private final long startedNanos = System.nanoTime();
  private long readyWaitNanos;
  private long handOverNanos;

  public RoundSender(RoundHeader header, PageTable ledger, PageHashing hashing, SenderBuffers buffers, SendOptions options) {
    this.header = header;
    this.ledger = ledger;
    this.hashing = hashing;
    this.buffers = buffers;
    this.options = options;
    this.limiter = new BandwidthLimiter(options.bandwidthLimitBytesPerSec());
  }

  /**
   * Opens the stream on {@code stub} (which carries the deadline/cancellation context) and sends
   * the header; applies the header's removed areas to the ledger.
   */
  public void start(PageStreamGrpc.PageStreamStub stub) throws IOException, InterruptedException {
    stub.pushRound(responses);
    for (var p : header.getProcessesList()) {
      for (var r : p.getRemovedList()) {
        ledger.removeRange(p.getPid(), r.getStart(), r.getEnd());
      }
    }
    send(PageStreamMessage.newBuilder().setHeader(header).build());
  }

  @Override
  public void pages(int pid, long address, int pages, ByteBuffer data) throws IOException, InterruptedException {
    checkAlive();
    int base = data.position();
    byte[] batch = buffers.batch();
    int done = 0;
    while (done < pages) {
      if (batchPid != pid || batchDataPages == BATCH_PAGES || runs.size() == MAX_RUNS || batchPages == RoundWriter.MAX_BATCH_PAGES) {
        flush();
        batchPid = pid;
      }
      int n = Math.min(Math.min(pages - done, BATCH_PAGES - batchDataPages), RoundWriter.MAX_BATCH_PAGES - batchPages);
      int at = batchDataPages * PageHashing.PAGE;
      // The one copy on the source: the engine's direct buffer into the heap batch that gRPC
      // serializes from (protobuf wraps a byte[] without copying; a direct buffer it copies).
      // The page is hashed right after, while it is in the cache: one CRC32C pass yields the
      // digest hash and the batch CRC.
      data.get(base + done * PageHashing.PAGE, batch, at, n * PageHashing.PAGE);
      long runAddress = address + (long) done * PageHashing.PAGE;
      for (int i = 0; i < n; i++) {
        long content = hashing.contentHash(batch, at + i * PageHashing.PAGE);
        check.addPage(content);
        long a = runAddress + (long) i * PageHashing.PAGE;
        ledger.put(pid, a, PageHashing.pageHash(pid, a, content), 0);
      }
      addRun(runAddress, n, false);
      batchDataPages += n;
      batchPages += n;
      done += n;
    }
    pagesSent += pages;
  }

  @Override
  public void zeroPages(int pid, long address, int pages) throws IOException, InterruptedException {
    checkAlive();
    long zero = hashing.zeroContentHash();
    for (int i = 0; i < pages; i++) {
      long a = address + (long) i * PageHashing.PAGE;
      ledger.put(pid, a, PageHashing.pageHash(pid, a, zero), 0);
    }
    // Split so that no batch names more than the receiver accepts (RoundWriter.MAX_BATCH_PAGES).
    int done = 0;
    while (done < pages) {
      if (batchPid != pid || runs.size() == MAX_RUNS || batchPages == RoundWriter.MAX_BATCH_PAGES) {
        flush();
        batchPid = pid;
      }
      int n = Math.min(pages - done, RoundWriter.MAX_BATCH_PAGES - batchPages);
      addRun(address + (long) done * PageHashing.PAGE, n, true);
      batchPages += n;
      done += n;
    }
    pagesSent += pages;
    zeroPagesSent += pages;
  }

  /**
   * Sends what is left and the trailer, half-closes, and waits for the acknowledgement. Throws
   * a StatusException with the destination's status (e.g. DATA_LOSS) or, when the acknowledged
   * digest differs from the source's, DATA_LOSS naming both.
   */
  public RoundAck finish() throws IOException, InterruptedException, StatusException {
    flush();
    String digest = PageHashing.hex(ledger.digest());
    send(PageStreamMessage.newBuilder().setTrailer(RoundTrailer.newBuilder()
        .setBatches(sequence).setPages(pagesSent).setSourceDigest(digest)).build());
    requests.onCompleted();
    log.info("migration {} round {}: {} batches ({} MiB on the wire) sent in {} ms; waited {} ms for the stream to be ready, {} ms handing batches to gRPC",
        header.getMigrationId(), header.getRound(), sequence, bytesOnWire >> 20, (System.nanoTime() - startedNanos) / 1_000_000, readyWaitNanos / 1_000_000,
        handOverNanos / 1_000_000);
    long deadline = System.nanoTime() + options.ackTimeout().toNanos();
    lock.lock();
    try {
      while (!completed && failure == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          cancel("no acknowledgement within " + options.ackTimeout());
          throw Status.DEADLINE_EXCEEDED.withDescription("round " + header.getRound()
              + ": the destination did not acknowledge within " + options.ackTimeout()).asException();
        }
        changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
    if (failure != null) {
      throw failure.asException();
    }
    RoundAck result = ack;
    if (result == null) {
      throw Status.INTERNAL.withDescription("round " + header.getRound() + ": the destination closed the stream without an acknowledgement").asException();
    }
    if (!digest.equals(result.getDigest())) {
      throw Status.DATA_LOSS.withDescription("round " + header.getRound() + ": the destination holds digest "
          + result.getDigest() + " but the source sent " + digest).asException();
    }
    return result;
  }

  /** Cancels the stream (the destination aborts the round). Safe from any thread. */
  public void cancel(String reason) {
    ClientCallStreamObserver<PageStreamMessage> r = requests;
    if (r != null && !completed) {
      r.cancel(reason, null);
    }
  }

  /** The stream's failure, if it failed (e.g. the destination's DATA_LOSS); null otherwise. */
  public Status failure() {
    return failure;
  }

  /** Page batches sent so far. */
  public long batches() {
    return sequence;
  }

  public long pagesSent() {
    return pagesSent;
  }

  public long zeroPagesSent() {
    return zeroPagesSent;
  }

  /** Payload bytes put on the wire (after compression). */
  public long bytesOnWire() {
    return bytesOnWire;
  }

  private void addRun(long address, int pages, boolean zero) {
    if (!runs.isEmpty()) {
      PageRun.Builder last = runs.get(runs.size() - 1);
      if (last.getZero() == zero && last.getAddress() + (long) last.getPages() * PageHashing.PAGE == address
          && (long) last.getPages() + pages <= Integer.MAX_VALUE) {
        last.setPages(last.getPages() + pages);
        return;
      }
    }
    runs.add(PageRun.newBuilder().setAddress(address).setPages(pages).setZero(zero));
  }

  private void flush() throws IOException, InterruptedException {
    if (runs.isEmpty()) {
      return;
    }
    List<PageRun> built = new ArrayList<>(runs.size());
    runs.forEach(r -> built.add(r.build()));
    int length = batchDataPages * PageHashing.PAGE;
    int crc = BatchChecksum.of(built, check.dataCrc(), check.length());
    byte[] batch = buffers.batch();
    // unsafeWrap: no copy; gRPC serializes the message during onNext, before the buffer is reused.
    ByteString payload = UnsafeByteOperations.unsafeWrap(batch, 0, length);
    if (options.compression() == Compression.COMPRESSION_LZ4 && length > 0) {
      byte[] out = buffers.compressed();
      int n = buffers.lz4().compress(batch, 0, length, out, 0, out.length);
      if (n < length) {
        payload = UnsafeByteOperations.unsafeWrap(out, 0, n);
      }
    }
    PageBatch message = options.batchHook().apply(PageBatch.newBuilder()
        .setPid(batchPid).addAllRuns(built).setData(payload).setUncompressedLength(length)
        .setCrc32C(crc).setSequence(sequence++).build());
    limiter.acquire(payload.size());
    send(PageStreamMessage.newBuilder().setBatch(message).build());
    bytesOnWire += payload.size();
    runs.clear();
    check.reset();
    batchDataPages = 0;
    batchPages = 0;
  }

  /** Waits until gRPC can take a message, then hands it over (serialized before return). */
  private void send(PageStreamMessage message) throws IOException, InterruptedException {
    long waitFrom = System.nanoTime();
    lock.lock();
    try {
      while (failure == null && !requests.isReady()) {
        changed.await(100, TimeUnit.MILLISECONDS); // re-check: isReady() may change without a callback after cancel
      }
    } finally {
      lock.unlock();
    }
    checkAlive();
    long ready = System.nanoTime();
    requests.onNext(message);
    readyWaitNanos += ready - waitFrom;
    handOverNanos += System.nanoTime() - ready;
  }

  private void checkAlive() throws IOException {
    Status f = failure;
    if (f != null) {
      throw new IOException("page stream of round " + header.getRound() + " failed: " + f.getCode()
          + (f.getDescription() == null ? "" : " " + f.getDescription()), f.asException());
    }
  }

  private void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private final class Responses implements ClientResponseObserver<PageStreamMessage, RoundAck> {
    @Override
    public void beforeStart(ClientCallStreamObserver<PageStreamMessage> stream) {
      requests = stream;
      stream.setOnReadyHandler(RoundSender.this::signal);
    }

    @Override
    public void onNext(RoundAck value) {
      ack = value;
    }

    @Override
    public void onError(Throwable t) {
      failure = Status.fromThrowable(t);
      signal();
    }

    @Override
    public void onCompleted() {
      completed = true;
      signal();
    }
  }
}
