package dev.ferry.agent.transport;

import dev.ferry.service.auth.AccessPolicy;
import dev.ferry.service.tls.ServerHandshake;
import dev.ferry.service.tls.TransportSecurity;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.AbstractStub;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The one place in the agent that builds gRPC servers and channels and applies deadlines. Every
 * server and channel gets the agent's {@link TransportSecurity}: mutual TLS with client
 * certificates required, and every call authorized by role ({@link AccessPolicy#ferry()}: only
 * coordinators drive the agent, only agents push pages); plaintext only when it was asked for.
 *
 * <p>Flow control is fixed (not BDP-autotuned) so that the bytes in flight on a page stream are
 * bounded: at most {@link #STREAM_WINDOW_BYTES} in the HTTP/2 window plus the sender's
 * {@link #ON_READY_THRESHOLD_BYTES} queued in gRPC plus one batch in the receiver's hands.
 */
public final class AgentTransport {
  /** Largest message an agent accepts: a page batch is at most 1 MiB of data plus its run list. */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
  /** HTTP/2 per-stream receive window: the destination buffers at most this much unrequested data. */
  public static final int STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
  /** The sender's isReady() turns false once this much is queued locally (in-flight window). */
  public static final int ON_READY_THRESHOLD_BYTES = 2 * 1024 * 1024;
  /**
   * A channel's write buffer: Netty's HTTP/2 flow controller moves at most what the channel can
   * take before it turns unwritable (default 64 KiB) into the socket per cycle, which capped DATA
   * frames at 64 KiB whatever the peer allowed ({@link BulkHttp2}) and made a write, flush and
   * writability event per 64 KiB. These are the bytes gRPC already holds for the call (slices,
   * not copies), which its own on-ready threshold bounds.
   */
  /**
   * Socket reads of up to 1 MiB (Netty's default stops at 64 KiB): a page batch in one or a few
   * reads instead of 16+, each a syscall and a pipeline event. With the composite cumulation
   * ({@link BulkHttp2}) the read buffers are linked, not copied; they live until gRPC has
   * consumed the frames in them, so the HTTP/2 window still bounds them.
   */
  static final AdaptiveRecvByteBufAllocator RECEIVE_SIZES = new AdaptiveRecvByteBufAllocator(64, 64 << 10, 1 << 20);
  static final WriteBufferWaterMark SEND_WATER_MARK = new WriteBufferWaterMark(1 << 20, 2 << 20);

  private final DeadlineScale deadlineScale;
  private final TransportSecurity security;
  /**
   * The buffer pool of every server and channel built here, instead of gRPC's own pooled one.
   * gRPC's pool has 2 MiB chunks and frees a chunk whenever it empties: a framed page batch
   * (~1 MiB) takes half of one, so between batches chunks were freed and allocated afresh
   * (allocateDirect zeroes them, then the kernel faults their pages in): profiled on a 256 MiB
   * round at 8 % of the sender thread's CPU and 15 % of the event loops'. (16 MiB chunks made it
   * worse: fewer, larger chunks zeroed.) Netty's adaptive allocator keeps emptied chunks in a
   * reuse queue. Direct memory, outside the heap.
   */
  private final ByteBufAllocator allocator = new AdaptiveByteBufAllocator(true, true);

  public AgentTransport(DeadlineScale deadlineScale, TransportSecurity security) {
    this.deadlineScale = deadlineScale;
    this.security = security;
  }

  /** Plaintext (tests and --insecure only): logs the insecure-mode warning. */
  public AgentTransport(DeadlineScale deadlineScale) {
    this(deadlineScale, TransportSecurity.insecure("agent transport"));
  }

  public TransportSecurity security() {
    return security;
  }

  public DeadlineScale deadlineScale() {
    return deadlineScale;
  }

  /**
   * Starts a server on {@code listen} serving {@code services}; calls run on {@code executor}
   * (never on Netty's event loop, since handlers may write to disk).
   */
  public Server startServer(InetSocketAddress listen, List<BindableService> services, Executor executor)
      throws IOException {
    // Netty's TLS handshake limit (10 s) scaled like every deadline: under emulation a cold
    // peer's first handshake outlasted it, and the waiting server closed the connection
    ServerCredentials credentials = security.serverCredentials(scaled(ServerHandshake.NETTY_DEFAULT));
    NettyServerBuilder builder = NettyServerBuilder.forAddress(listen, BulkHttp2.server(credentials))
        .intercept(security.authorization(AccessPolicy.ferry()))
        .executor(executor)
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .flowControlWindow(STREAM_WINDOW_BYTES)
        .withChildOption(ChannelOption.ALLOCATOR, allocator)
        .withChildOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_SIZES)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        // gRPC drops a connection whose TLS handshake takes over 120 s; scaled like every deadline
        .handshakeTimeout(scaled(Duration.ofSeconds(120)).toMillis(), TimeUnit.MILLISECONDS);
    services.forEach(builder::addService);
    return builder.build().start();
  }

  /** A channel to another agent, {@code target} as "host:port". */
  public ManagedChannel channel(String target) {
    return channel(target, "");
  }

  /**
   * A channel to the agent of Ferry host {@code peerHost} at {@code target}: with mutual TLS its
   * certificate must name {@code peerHost} as CN, so memory goes only to the destination the
   * coordinator named, whatever answers at the address ("" = any agent certificate).
   */
  public ManagedChannel channel(String target, String peerHost) {
    return NettyChannelBuilder.forTarget(target, security.channelCredentials(peerHost))
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .flowControlWindow(STREAM_WINDOW_BYTES)
        .withOption(ChannelOption.ALLOCATOR, allocator)
        .withOption(ChannelOption.WRITE_BUFFER_WATER_MARK, SEND_WATER_MARK)
        .keepAliveTime(30, TimeUnit.SECONDS)
        // No retries: a retried stream would replay buffered messages, and page batches wrap
        // buffers the sender reuses once onNext returned. Rounds are retried by the coordinator.
        .disableRetry()
        .build();
  }

  /** {@code stub} with a deadline of {@code base} times the deadline scale, from now. */
  public <S extends AbstractStub<S>> S withDeadline(S stub, Duration base) {
    return stub.withDeadlineAfter(deadlineScale.apply(base).toNanos(), TimeUnit.NANOSECONDS);
  }

  /** {@code base} times the deadline scale, for waits that are not gRPC deadlines. */
  public Duration scaled(Duration base) {
    return deadlineScale.apply(base);
  }

  /** A page-stream stub setting: how much a sender may queue before isReady() turns false. */
  public <S extends AbstractStub<S>> S forPageStream(S stub) {
    return stub.withOnReadyThreshold(ON_READY_THRESHOLD_BYTES);
  }
}
