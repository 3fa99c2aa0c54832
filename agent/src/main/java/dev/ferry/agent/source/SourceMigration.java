package dev.ferry.agent.source;

import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.CapturedRound;
import dev.ferry.agent.tracking.CopyFigures;
import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.ProcessLayout;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.transfer.PageTable;
import dev.ferry.agent.transfer.RoundSender;
import dev.ferry.agent.transfer.SendOptions;
import dev.ferry.agent.transfer.SenderBuffers;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.RoundAck;
import dev.ferry.proto.RoundFigures;
import dev.ferry.proto.RoundHeader;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One migration on the source: the tracking session, the channel to the destination, and the
 * ledger of what the destination holds (from which each round's digest and, at switch-over, the
 * CRIU parent pagemap are computed).
 *
 * <p>Rounds run one at a time (the round permit). A round that fails after its capture leaves
 * the migration broken: the tracker's dirty bits were cleared for pages that never arrived, so
 * only a new migration can continue.
 */
public final class SourceMigration implements AutoCloseable {
  private final String id;
  private final int pid;
  private final PrecopySession session;
  private final ManagedChannel channel;
  private final AgentTransport transport;
  private final ByteString streamToken;
  private final SendOptions options;
  private final PageHashing hashing;
  private final PageTable ledger = new PageTable(false);
  private final SenderBuffers buffers = new SenderBuffers();
  private final Semaphore roundPermit = new Semaphore(1);
  private final Throttle throttle;
  private final AgentMetrics metrics;
  /** No switch-over will follow (StartTracking's dry_run): nothing is prepared for one. */
  private final boolean dryRun;
  private volatile int nextRound = 1;
  private volatile String broken;
  private Instant previousCapture;

  SourceMigration(String id, int pid, PrecopySession session, ManagedChannel channel, AgentTransport transport,
      ByteString streamToken, SendOptions options, PageHashing hashing, Throttle throttle, AgentMetrics metrics, boolean dryRun) {
    this.metrics = metrics;
    this.dryRun = dryRun;
    this.id = id;
    this.pid = pid;
    this.session = session;
    this.channel = channel;
    this.transport = transport;
    this.streamToken = streamToken;
    this.options = options;
    this.hashing = hashing;
    this.throttle = throttle;
  }

  /** Whether this is a dry run: no checkpoint will follow its rounds. */
  public boolean dryRun() {
    return dryRun;
  }

  public String id() {
    return id;
  }

  public int pid() {
    return pid;
  }

  public PrecopySession session() {
    return session;
  }

  /** What the destination holds after the last acknowledged round (round thread only). */
  public PageTable ledger() {
    return ledger;
  }

  public ManagedChannel channel() {
    return channel;
  }

  public ByteString streamToken() {
    return streamToken;
  }

  private volatile boolean closed;

  public int nextRound() {
    return nextRound;
  }

  Throttle throttle() {
    return throttle;
  }

  /** Takes the round permit or fails with ABORTED. */
  void acquireRound() throws StatusException {
    if (!roundPermit.tryAcquire()) {
      throw Status.ABORTED.withDescription("migration " + id + ": a round or checkpoint is already running").asException();
    }
  }

  /** Takes the round permit, waiting at most {@code timeout} for a running round; false if it did not come. */
  boolean tryAcquireRound(java.time.Duration timeout) throws InterruptedException {
    return roundPermit.tryAcquire(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
  }

  void releaseRound() {
    roundPermit.release();
  }

  /** Runs round {@code round}: capture, stream, acknowledgement. Caller holds the round permit. */
  RoundFigures runRound(int round) throws StatusException, InterruptedException {
    if (broken != null) {
      throw Status.FAILED_PRECONDITION.withDescription("migration " + id + " cannot continue: " + broken).asException();
    }
    if (round != nextRound) {
      throw Status.ABORTED.withDescription("migration " + id + ": round " + round + " requested, " + nextRound + " is next").asException();
    }
    long started = System.nanoTime();
    CapturedRound captured;
    try {
      captured = session.capture();
    } catch (TrackingException e) {
      throw TrackingStatuses.of(e).asException();
    }
    RoundHeader.Builder header = RoundHeader.newBuilder().setMigrationId(id).setStreamToken(streamToken)
        .setRound(round).setCompression(options.compression());
    long removedAreas = 0;
    int thp = 0;
    for (ProcessLayout p : captured.processes()) {
      ProcessAreas.Builder areas = ProcessAreas.newBuilder().setPid(p.pid());
      p.areas().forEach(a -> areas.addAreas(range(a)));
      p.removed().forEach(a -> areas.addRemoved(range(a)));
      removedAreas += p.removed().size();
      thp += p.thpAreas();
      header.addProcesses(areas);
    }
    RoundSender sender = new RoundSender(header.build(), ledger, hashing, buffers, options);
    CopyFigures copy;
    RoundAck ack;
    try {
      sender.start(transport.forPageStream(PageStreamGrpc.newStub(channel)));
      copy = captured.copy(sender);
      ack = sender.finish();
    } catch (TrackingException | IOException | StatusException | RuntimeException e) {
      sender.cancel("round failed on the source");
      Status status = sender.failure() != null ? sender.failure()
          : e instanceof StatusException se ? se.getStatus()
          : e instanceof TrackingException te ? TrackingStatuses.of(te)
          : Status.UNAVAILABLE.withDescription("streaming to the destination failed: " + e.getMessage()).withCause(e);
      broken = "round " + round + " failed (" + status.getCode() + ": " + status.getDescription() + ")";
      throw status.withDescription("migration " + id + " round " + round + ": " + status.getDescription()).asException();
    } catch (InterruptedException e) {
      sender.cancel("interrupted");
      broken = "round " + round + " was interrupted";
      throw e;
    }
    nextRound = round + 1;
    long roundNanos = System.nanoTime() - started;
    metrics.roundSent(sender.bytesOnWire(), sender.pagesSent() - sender.zeroPagesSent(), sender.zeroPagesSent(),
        sender.batches());
    metrics.sourceRound(Duration.ofNanos(roundNanos), captured.freezeWindow());
    Instant capturedAt = captured.capturedAt();
    double sinceLast = previousCapture == null ? 0 : Duration.between(previousCapture, capturedAt).toNanos() / 1e9;
    previousCapture = capturedAt;
    double copySeconds = Math.max(1e-9, copy.copyTime().toNanos() / 1e9);
    return RoundFigures.newBuilder()
        .setRound(round)
        .setDirtyPages(copy.dirtyPages())
        .setZeroPages(copy.zeroPages())
        .setBytesSent(sender.bytesOnWire())
        .setFreezeWindowMicros(TimeUnit.NANOSECONDS.toMicros(captured.freezeWindow().toNanos()))
        .setCopyMicros(TimeUnit.NANOSECONDS.toMicros(copy.copyTime().toNanos()))
        .setRoundMicros(TimeUnit.NANOSECONDS.toMicros(roundNanos))
        .setBandwidthBytesPerSec(copy.bytesRead() / copySeconds)
        .setDirtyPagesPerSec(sinceLast > 0 ? copy.dirtyPages() / sinceLast : 0)
        .setTotalPages(copy.totalPages())
        .setRemovedAreas(removedAreas)
        .setThpAreas(thp)
        .setTracker(session.kind())
        .setCapturedAtUnixMillis(capturedAt.toEpochMilli())
        .setDestinationDigest(ack.getDigest())
        .build();
  }

  /** No more pre-copy rounds: {@link #runRound} fails with FAILED_PRECONDITION naming {@code why}. */
  void endPrecopy(String why) {
    if (broken == null) {
      broken = why;
    }
  }

  /** Pushes a final CRIU image dir to the destination (for the switch-over). */
  public dev.ferry.proto.ImagesAck pushImages(java.nio.file.Path dir) throws StatusException, InterruptedException {
    return imagesSent(dev.ferry.agent.transfer.ImagePusher.push(transport, channel, id, streamToken, dir, options.ackTimeout()));
  }

  /**
   * Opens the image stream, then lets {@code producer} write {@code dir} (the dump), then pushes
   * it: the destination learns from the stream's header that the switch-over began and lays out
   * its parent pages meanwhile. Null when the producer returned false (nothing sent).
   */
  public dev.ferry.proto.ImagesAck pushImages(java.nio.file.Path dir, dev.ferry.agent.transfer.ImagePusher.Producer producer)
      throws StatusException, InterruptedException {
    return imagesSent(dev.ferry.agent.transfer.ImagePusher.push(transport, channel, id, streamToken, dir, options.ackTimeout(), producer));
  }

  /** Counts what the destination acknowledged (null: nothing was sent). */
  private dev.ferry.proto.ImagesAck imagesSent(dev.ferry.proto.ImagesAck ack) {
    if (ack != null) {
      metrics.imagesSent(ack.getBytes());
    }
    return ack;
  }

  private static dev.ferry.proto.AddressRange range(AddressRange a) {
    return dev.ferry.proto.AddressRange.newBuilder().setStart(a.start()).setEnd(a.end()).build();
  }

  /** Whether {@link #close} ran (any thread may ask). */
  public boolean closed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
    throttle.close();
    session.close();
    channel.shutdownNow();
  }
}
