package dev.ferry.agent.transfer;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.proto.ImageStreamMessage;
import dev.ferry.proto.ImagesAck;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.RoundAck;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;

/**
 * The destination's PageStream service: rounds of pages into the page store, final CRIU images
 * into the store's {@code final/} dir. Both streams use manual flow control (one message
 * requested at a time, after the previous one is on disk).
 */
public final class PageStreamService extends PageStreamGrpc.PageStreamImplBase {
  private final PageStores stores;
  private final StreamTokens tokens;

  private final Consumer<PageStore> finalImagesComing;

  public PageStreamService(PageStores stores, StreamTokens tokens) {
    this(stores, tokens, store -> {});
  }

  /**
   * @param finalImagesComing told (on a gRPC thread; must not block) when a final image stream
   *     with a valid token opens: the source is dumping
   */
  public PageStreamService(PageStores stores, StreamTokens tokens, Consumer<PageStore> finalImagesComing) {
    this.stores = stores;
    this.tokens = tokens;
    this.finalImagesComing = finalImagesComing;
  }

  @Override
  public StreamObserver<PageStreamMessage> pushRound(StreamObserver<RoundAck> responseObserver) {
    ServerCallStreamObserver<RoundAck> call = (ServerCallStreamObserver<RoundAck>) responseObserver;
    call.disableAutoRequest();
    RoundReceiver receiver = new RoundReceiver(call, stores, tokens);
    call.setOnCancelHandler(receiver::cancelled);
    // A few messages ahead, so the transport deframes the next batch while this one is written:
    // every hop between threads costs a scheduling delay, and on a loaded host that, not the
    // bytes, bounds the rate. Memory stays bounded: at most PREFETCH batches wait parsed.
    call.request(RoundReceiver.PREFETCH);
    return receiver;
  }

  @Override
  public StreamObserver<ImageStreamMessage> pushImages(StreamObserver<ImagesAck> responseObserver) {
    ServerCallStreamObserver<ImagesAck> call = (ServerCallStreamObserver<ImagesAck>) responseObserver;
    call.disableAutoRequest();
    ImageReceiver receiver = new ImageReceiver(call, stores, tokens, finalImagesComing);
    call.request(1);
    return receiver;
  }
}
