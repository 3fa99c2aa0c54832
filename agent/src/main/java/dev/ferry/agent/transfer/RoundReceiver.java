package dev.ferry.agent.transfer;

import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.store.StoreException;
import dev.ferry.agent.tracking.Lz4JavaLibrary;
import dev.ferry.proto.Compression;
import dev.ferry.proto.PageBatch;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.RoundAck;
import dev.ferry.proto.RoundHeader;
import dev.ferry.proto.RoundTrailer;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.util.Optional;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4FastDecompressor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination's side of one PushRound stream. Requests one message at a time and only after
 * the previous one reached the store (manual flow control), so what waits in memory is bounded
 * by the HTTP/2 window. A batch whose CRC32C differs is refused with DATA_LOSS and the round
 * aborted; so is any store failure (RESOURCE_EXHAUSTED for a full disk): the store keeps the
 * previous round's state.
 *
 * <p>gRPC calls these callbacks serially on the server executor (not the Netty event loop), so
 * the store I/O done here does not block the transport.
 */
final class RoundReceiver implements StreamObserver<InboundMessage> {
  private static final Logger log = LoggerFactory.getLogger(RoundReceiver.class);
  /** Messages requested ahead of the one being applied. */
  static final int PREFETCH = 4;
  /** Loaded on the first compressed batch only (lz4-java's JNI library needs x86-64-v3: Lz4JavaLibrary). */
  private static final class Lz4 {
    static final LZ4FastDecompressor DECOMPRESSOR = Lz4JavaLibrary.lz4().fastDecompressor();
  }

  private final ServerCallStreamObserver<RoundAck> call;
  private final PageStores stores;
  private final StreamTokens tokens;
  private final AgentMetrics metrics;
  private RoundHeader header;
  private RoundWriter writer;
  private ByteBuffer scratch; // decompression target, allocated on the first compressed batch
  private final PageHashing hashing = new PageHashing();
  private final BatchChecksum.Accumulator check = new BatchChecksum.Accumulator();
  private long[] contentHashes = new long[RoundSender.BATCH_PAGES];
  private long nextSequence;
  private boolean done;
  // Where this stream's time goes (logged at the trailer): idle between messages means the
  // source or the transport is the bottleneck, busy means this side is.
  private long firstMessageNanos;
  private long busyNanos;
  private long storeNanos;
  private long parseNanos; // reading messages out of gRPC's buffers, on this thread before onNext
  private long inPlace; // messages whose data was read in place (views of gRPC's buffers)

  RoundReceiver(ServerCallStreamObserver<RoundAck> call, PageStores stores, StreamTokens tokens, AgentMetrics metrics) {
    this.call = call;
    this.stores = stores;
    this.tokens = tokens;
    this.metrics = metrics;
  }

  @Override
  public void onNext(InboundMessage inbound) {
    try (inbound) { // releases gRPC's buffers the data views point into
      receive(inbound);
    }
  }

  private void receive(InboundMessage inbound) {
    if (done) {
      return;
    }
    PageStreamMessage message = inbound.message();
    if (inbound.inPlace()) {
      inPlace++;
    }
    long from = System.nanoTime();
    if (firstMessageNanos == 0) {
      firstMessageNanos = from;
    }
    parseNanos += inbound.parseNanos();
    try {
      switch (message.getKindCase()) {
        case HEADER -> onHeader(message.getHeader());
        case BATCH -> onBatch(message.getBatch(), inbound.data());
        case TRAILER -> onTrailer(message.getTrailer());
        default -> throw Status.INVALID_ARGUMENT.withDescription("empty page stream message").asRuntimeException();
      }
      if (!done) {
        call.request(1);
      }
      busyNanos += System.nanoTime() - from;
    } catch (StoreException e) {
      fail(StoreStatuses.of(e));
    } catch (io.grpc.StatusRuntimeException e) {
      fail(e.getStatus());
    } catch (RuntimeException e) {
      log.error("page stream failed unexpectedly", e);
      fail(Status.INTERNAL.withDescription("destination failed: " + e).withCause(e));
    }
  }

  private void onHeader(RoundHeader h) throws StoreException {
    if (header != null) {
      throw Status.INVALID_ARGUMENT.withDescription("a second round header in one stream").asRuntimeException();
    }
    Optional<Status> refused = tokens.refusal(h.getMigrationId(), h.getStreamToken());
    if (refused.isPresent()) {
      throw refused.get().asRuntimeException();
    }
    if (h.getCompression() != Compression.COMPRESSION_NONE && h.getCompression() != Compression.COMPRESSION_LZ4) {
      throw Status.UNIMPLEMENTED.withDescription("compression " + h.getCompression() + " is not supported; use NONE or LZ4").asRuntimeException();
    }
    PageStore store = stores.get(h.getMigrationId()).orElseThrow(() -> Status.FAILED_PRECONDITION
        .withDescription("migration " + h.getMigrationId() + " has no open page store here (PrepareReceive first)").asRuntimeException());
    header = h;
    writer = store.beginRound(h.getRound(), h.getProcessesList());
  }

  /** @param data the batch's payload: views, in order, of the buffers it arrived in (valid during this call) */
  private void onBatch(PageBatch batch, ByteBuffer[] data) throws StoreException {
    requireHeader();
    if (batch.getSequence() != nextSequence) {
      throw Status.DATA_LOSS.withDescription(String.format("round %d: batch %d arrived, %d expected",
          header.getRound(), batch.getSequence(), nextSequence)).asRuntimeException();
    }
    nextSequence++;
    long payloadBytes = Pieces.remaining(data); // as on the wire (compressed or not), what the source counts as sent
    int length = batch.getUncompressedLength();
    if (payloadBytes != length) {
      if (header.getCompression() != Compression.COMPRESSION_LZ4 || length > 16 * 1024 * 1024) {
        throw Status.DATA_LOSS.withDescription(String.format("round %d batch %d: %d bytes for %d uncompressed",
            header.getRound(), batch.getSequence(), payloadBytes, length)).asRuntimeException();
      }
      if (scratch == null || scratch.capacity() < length) {
        scratch = AlignedBuffers.allocate(Math.max(length, RoundSender.BATCH_PAGES * PageHashing.PAGE));
      }
      ByteBuffer compressed = Pieces.contiguous(data); // LZ4 reads one buffer: a copy only when the data spans several
      try {
        Lz4.DECOMPRESSOR.decompress(compressed, compressed.position(), scratch, 0, length);
      } catch (LZ4Exception e) {
        throw Status.DATA_LOSS.withDescription(String.format("round %d batch %d: LZ4 data is damaged (%s)",
            header.getRound(), batch.getSequence(), e.getMessage())).asRuntimeException();
      }
      data = new ByteBuffer[] {scratch.duplicate().position(0).limit(length)};
    }
    // One pass over the pages: their CRC32Cs give both the batch check and the digest hashes.
    long[] hashes = null;
    int crc;
    if (length % PageHashing.PAGE == 0) {
      int pages = length / PageHashing.PAGE;
      if (contentHashes.length < pages) {
        contentHashes = new long[pages];
      }
      hashes = contentHashes;
      hashing.contentHashes(data, hashes);
      check.reset();
      for (int i = 0; i < pages; i++) {
        check.addPage(hashes[i]);
      }
      crc = BatchChecksum.of(batch.getRunsList(), check.dataCrc(), check.length());
    } else {
      crc = BatchChecksum.of(batch.getRunsList(), Pieces.contiguous(data)); // not whole pages: the store refuses it
    }
    if (crc != batch.getCrc32C()) {
      throw Status.DATA_LOSS.withDescription(String.format(
          "round %d batch %d of pid %d: CRC32C %08x expected, %08x computed; batch not applied, round aborted",
          header.getRound(), batch.getSequence(), batch.getPid(), batch.getCrc32C(), crc)).asRuntimeException();
    }
    long storeFrom = System.nanoTime();
    writer.apply(batch.getPid(), batch.getRunsList(), data, hashes);
    storeNanos += System.nanoTime() - storeFrom;
    long named = 0;
    long zero = 0;
    for (dev.ferry.proto.PageRun run : batch.getRunsList()) {
      named += run.getPages();
      zero += run.getZero() ? run.getPages() : 0;
    }
    metrics.batchReceived(payloadBytes, named - zero, zero);
  }

  /**
   * Commits the round only if it leaves the store holding exactly what the source says it sent
   * (its digest): otherwise the round is dropped and the source gets DATA_LOSS, so a destination
   * never acknowledges, let alone restores from, a copy that differs from the source's.
   */
  private void onTrailer(RoundTrailer trailer) throws StoreException {
    requireHeader();
    long commitFrom = System.nanoTime();
    RoundWriter.Commit commit = writer.commit(trailer.getBatches(), trailer.getPages(), trailer.getSourceDigest());
    log.info("migration {} round {}: {} batches received over {} ms, busy {} ms of it ({} ms handing pages to the store; {}) "
            + "plus {} ms parsing ({} messages read in place), commit {} ms",
        header.getMigrationId(), header.getRound(), trailer.getBatches(), (commitFrom - firstMessageNanos) / 1_000_000,
        busyNanos / 1_000_000, storeNanos / 1_000_000, writer.writeFigures(), parseNanos / 1_000_000, inPlace,
        (System.nanoTime() - commitFrom) / 1_000_000);
    done = true;
    metrics.destinationRound();
    call.onNext(RoundAck.newBuilder().setRound(header.getRound()).setPagesApplied(commit.pagesApplied())
        .setDigest(commit.status().digestHex()).setPagesHeld(commit.status().pages()).build());
    call.onCompleted();
  }

  private void requireHeader() {
    if (header == null) {
      throw Status.INVALID_ARGUMENT.withDescription("the first page stream message must be a RoundHeader").asRuntimeException();
    }
  }

  private void fail(Status status) {
    abortRound();
    done = true;
    log.warn("page stream of migration {} round {} refused: {} {}", header == null ? "?" : header.getMigrationId(),
        header == null ? 0 : header.getRound(), status.getCode(), status.getDescription());
    call.onError(status.asRuntimeException());
  }

  /** The client cancelled or the transport failed: drop the round. */
  void cancelled() {
    abortRound();
    done = true;
  }

  private void abortRound() {
    if (writer != null) {
      writer.abort();
    }
  }

  @Override
  public void onError(Throwable t) {
    if (!done) {
      log.info("page stream of round {} ended by the source: {}", header == null ? 0 : header.getRound(), Status.fromThrowable(t));
    }
    cancelled();
  }

  @Override
  public void onCompleted() {
    if (!done) {
      fail(Status.FAILED_PRECONDITION.withDescription("the page stream ended without a RoundTrailer; round aborted"));
    }
  }
}
