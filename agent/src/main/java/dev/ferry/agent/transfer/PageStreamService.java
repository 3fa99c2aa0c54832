package dev.ferry.agent.transfer;

import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.proto.ImageStreamMessage;
import dev.ferry.proto.ImagesAck;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.RoundAck;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;

/**
 * The destination's PageStream service: rounds of pages into the page store, final CRIU images
 * into the store's {@code final/} dir. Both streams use manual flow control (one message
 * requested at a time, after the previous one is on disk).
 */
public final class PageStreamService implements PageStreamGrpc.AsyncService, io.grpc.BindableService {
  private final PageStores stores;
  private final StreamTokens tokens;
  private final AgentMetrics metrics;

  private final Consumer<PageStore> finalImagesComing;

  public PageStreamService(PageStores stores, StreamTokens tokens) {
    this(stores, tokens, AgentMetrics.unexposed(), store -> {});
  }

  public PageStreamService(PageStores stores, StreamTokens tokens, AgentMetrics metrics) {
    this(stores, tokens, metrics, store -> {});
  }

  /**
   * @param finalImagesComing told (on a gRPC thread; must not block) when a final image stream
   *     with a valid token opens: the source is dumping
   */
  public PageStreamService(PageStores stores, StreamTokens tokens, AgentMetrics metrics, Consumer<PageStore> finalImagesComing) {
    this.stores = stores;
    this.tokens = tokens;
    this.metrics = metrics;
    this.finalImagesComing = finalImagesComing;
  }

  /**
   * The generated definition, with PushRound bound to {@link InboundMarshaller} (page data read
   * once, into a direct buffer, instead of copied twice into protobuf arrays). Same method name
   * and wire format, so senders use the generated stub unchanged.
   */
  @Override
  public ServerServiceDefinition bindService() {
    ServerServiceDefinition generated = PageStreamGrpc.bindService(this);
    MethodDescriptor<PageStreamMessage, RoundAck> push = PageStreamGrpc.getPushRoundMethod();
    MethodDescriptor<InboundMessage, RoundAck> inbound = push.toBuilder(new InboundMarshaller(), push.getResponseMarshaller()).build();
    ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(PageStreamGrpc.SERVICE_NAME)
        .addMethod(inbound, ServerCalls.asyncClientStreamingCall(this::receiveRound));
    for (ServerMethodDefinition<?, ?> m : generated.getMethods()) {
      if (!m.getMethodDescriptor().getFullMethodName().equals(push.getFullMethodName())) {
        builder.addMethod(m);
      }
    }
    return builder.build();
  }

  /** Bound in place of the generated method by {@link #bindService()}; not reachable. */
  @Override
  public StreamObserver<PageStreamMessage> pushRound(StreamObserver<RoundAck> responseObserver) {
    throw new UnsupportedOperationException("PushRound is bound to receiveRound (InboundMarshaller)");
  }

  private StreamObserver<InboundMessage> receiveRound(StreamObserver<RoundAck> responseObserver) {
    ServerCallStreamObserver<RoundAck> call = (ServerCallStreamObserver<RoundAck>) responseObserver;
    call.disableAutoRequest();
    RoundReceiver receiver = new RoundReceiver(call, stores, tokens, metrics);
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
    ImageReceiver receiver = new ImageReceiver(call, stores, tokens, finalImagesComing, metrics);
    call.request(1);
    return receiver;
  }
}
