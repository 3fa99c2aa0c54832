package dev.ferry.agent.security;

import com.google.protobuf.ByteString;
import dev.ferry.agent.Agent;
import dev.ferry.agent.source.PrecopySessionFactory;
import dev.ferry.agent.transfer.BatchChecksum;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.proto.AddressRange;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PageBatch;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.PrepareReceiveRequest;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.RoundAck;
import dev.ferry.proto.RoundHeader;
import dev.ferry.proto.RoundTrailer;
import dev.ferry.proto.StoreStatusReply;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real destination agent on loopback with one prepared migration, and a raw PageStream client
 * that sends whatever messages a test builds (valid or hostile) and reports how the stream ended.
 */
final class DestinationUnderTest implements AutoCloseable {
  static final int PAGE = 4096;
  static final int PID = 4242;
  static final long AREA_START = 0x7f0000000000L;
  static final long AREA_PAGES = 64;
  static final String MIGRATION = "m-hostile";

  final Agent agent;
  final ByteString token = ByteString.copyFrom(new byte[] {
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32});
  private final AgentTransport transport = new AgentTransport(DeadlineScale.ONE);
  private final ManagedChannel channel;

  /** How a stream ended: the acknowledgement or the refusal. */
  record Outcome(Status status, RoundAck ack) {
    boolean ok() {
      return status.isOk();
    }
  }

  DestinationUnderTest(Path dataDir) throws IOException {
    // No trackers: the fuzzed StartTracking requests name random pids of this host, which must
    // never be frozen or read; "not in this build" answers them before any /proc access.
    agent = Agent.start(Agent.Config.of("host2", new InetSocketAddress("127.0.0.1", 0), dataDir)
        .withSessions(PrecopySessionFactory.NONE));
    channel = transport.channel(agent.address());
    prepare(MIGRATION);
  }

  void prepare(String migration) {
    destination().prepareReceive(PrepareReceiveRequest.newBuilder().setMigrationId(migration).setStreamToken(token)
        .setSourceHost("host1").build());
  }

  DestinationAgentGrpc.DestinationAgentBlockingStub destination() {
    return transport.withDeadline(DestinationAgentGrpc.newBlockingStub(channel), Duration.ofSeconds(20));
  }

  ManagedChannel channel() {
    return channel;
  }

  StoreStatusReply status() {
    return destination().storeStatus(MigrationRef.newBuilder().setMigrationId(MIGRATION).build());
  }

  static RoundHeader.Builder header(int round) {
    return RoundHeader.newBuilder().setMigrationId(MIGRATION).setRound(round)
        .addProcesses(ProcessAreas.newBuilder().setPid(PID)
            .addAreas(AddressRange.newBuilder().setStart(AREA_START).setEnd(AREA_START + AREA_PAGES * PAGE)));
  }

  RoundHeader.Builder armedHeader(int round) {
    return header(round).setStreamToken(token);
  }

  /** A well-formed batch: the runs and, for non-zero runs, pages filled with {@code fill}. */
  static PageBatch batch(long sequence, byte fill, PageRun... runs) {
    long dataPages = Arrays.stream(runs).filter(r -> !r.getZero()).mapToLong(r -> Integer.toUnsignedLong(r.getPages())).sum();
    byte[] data = new byte[(int) Math.min(dataPages * PAGE, 1 << 20)];
    Arrays.fill(data, fill);
    int crc = BatchChecksum.of(List.of(runs), ByteBuffer.wrap(data));
    return PageBatch.newBuilder().setPid(PID).addAllRuns(List.of(runs)).setData(ByteString.copyFrom(data))
        .setUncompressedLength(data.length).setCrc32C(crc).setSequence(sequence).build();
  }

  static PageRun run(long address, int pages, boolean zero) {
    return PageRun.newBuilder().setAddress(address).setPages(pages).setZero(zero).build();
  }

  static PageStreamMessage of(RoundHeader.Builder h) {
    return PageStreamMessage.newBuilder().setHeader(h).build();
  }

  static PageStreamMessage of(PageBatch b) {
    return PageStreamMessage.newBuilder().setBatch(b).build();
  }

  static PageStreamMessage trailer(long batches, long pages) {
    return PageStreamMessage.newBuilder().setTrailer(RoundTrailer.newBuilder().setBatches(batches).setPages(pages)).build();
  }

  /**
   * A valid round {@code round}: two batches of pages inside the area, one zero run, and the
   * source digest of the six pages it stores (the same addresses every time, so after any valid
   * round the store holds exactly these six).
   */
  List<PageStreamMessage> validRound(int round) {
    PageHashing hashing = new PageHashing();
    long digest = 0;
    byte[] page = new byte[PAGE];
    for (int i = 0; i < 2; i++) {
      Arrays.fill(page, (byte) round);
      digest += PageHashing.pageHash(PID, AREA_START + (long) i * PAGE, hashing.contentHash(page, 0));
    }
    for (int i = 4; i < 7; i++) {
      digest += PageHashing.pageHash(PID, AREA_START + (long) i * PAGE, hashing.zeroContentHash());
    }
    Arrays.fill(page, (byte) (round + 1));
    digest += PageHashing.pageHash(PID, AREA_START + 10L * PAGE, hashing.contentHash(page, 0));
    PageStreamMessage trailer = PageStreamMessage.newBuilder().setTrailer(RoundTrailer.newBuilder()
        .setBatches(2).setPages(6).setSourceDigest(PageHashing.hex(digest))).build();
    return List.of(of(armedHeader(round)),
        of(batch(0, (byte) round, run(AREA_START, 2, false), run(AREA_START + 4L * PAGE, 3, true))),
        of(batch(1, (byte) (round + 1), run(AREA_START + 10L * PAGE, 1, false))),
        trailer);
  }

  /** Sends {@code messages} in order, half-closes, and waits for the end of the stream. */
  Outcome push(List<PageStreamMessage> messages) throws Exception {
    CompletableFuture<Outcome> done = new CompletableFuture<>();
    StreamObserver<PageStreamMessage> requests = transport.withDeadline(PageStreamGrpc.newStub(channel), Duration.ofSeconds(20))
        .pushRound(new StreamObserver<>() {
          private RoundAck ack;

          @Override
          public void onNext(RoundAck value) {
            ack = value;
          }

          @Override
          public void onError(Throwable t) {
            done.complete(new Outcome(Status.fromThrowable(t), null));
          }

          @Override
          public void onCompleted() {
            done.complete(new Outcome(Status.OK, ack));
          }
        });
    for (PageStreamMessage m : messages) {
      requests.onNext(m);
    }
    requests.onCompleted();
    return done.get(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    agent.close();
  }
}
