package dev.ferry.agent.transport;

import io.grpc.ServerCredentials;
import io.grpc.internal.ObjectPool;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.InternalProtocolNegotiator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.AsciiString;
import java.util.concurrent.Executor;

/**
 * HTTP/2 settings for bulk page streams on an agent's server, which gRPC's builder does not
 * expose: applied by wrapping the server credentials' protocol negotiator (whatever the
 * security: TLS or plaintext), which is handed each connection's gRPC handler.
 *
 * <ul>
 *   <li><b>Composite cumulation.</b> Netty's HTTP/2 decoder gathers socket reads in a cumulation
 *       buffer; the DATA frames it hands gRPC are slices that keep that buffer referenced, so with
 *       the default merging cumulator nearly every read copied the unread rest AND the new bytes
 *       into a fresh buffer: one extra copy of every page byte on the receiving event loop
 *       (profiled: ~21 % of the event loops' CPU on a 1 GiB round). The composite cumulator
 *       links the read buffers instead.
 *   <li><b>Large DATA frames.</b> The server advertises {@link #MAX_FRAME_BYTES} (HTTP/2's
 *       default is 16 KiB, i.e. 64 frames, headers and flow-control steps per 1 MiB batch on
 *       each side). Sent as a second SETTINGS frame when the first stream arrives (the preface's
 *       settings are built inside gRPC); the peer uses it once it has read it, and this side's
 *       reader accepts larger frames once the peer acknowledged it, which the peer does before
 *       sending any larger frame. The sender's frames are also bounded by its channel's write
 *       buffer ({@link AgentTransport}'s write-buffer water marks).
 * </ul>
 *
 * <p>Memory is still bounded by the HTTP/2 windows: a frame is at most what the window allows.
 * This uses grpc-netty's {@code Internal*} negotiator API (public, but not covered by gRPC's
 * stability promise): check it when upgrading grpc.
 */
final class BulkHttp2 {
  /** SETTINGS_MAX_FRAME_SIZE this server advertises: a whole page batch in one DATA frame. */
  static final int MAX_FRAME_BYTES = 1 << 20;

  private BulkHttp2() {}

  /** {@code credentials} with the bulk settings applied to every connection of the server. */
  static ServerCredentials server(ServerCredentials credentials) {
    InternalProtocolNegotiator.ServerFactory delegate = InternalNettyServerCredentials.toNegotiator(credentials);
    return InternalNettyServerCredentials.create(new InternalProtocolNegotiator.ServerFactory() {
      @Override
      public InternalProtocolNegotiator.ProtocolNegotiator newNegotiator(ObjectPool<? extends Executor> offloadExecutorPool) {
        return new Negotiator(delegate.newNegotiator(offloadExecutorPool));
      }
    });
  }

  private static final class Negotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
    private final InternalProtocolNegotiator.ProtocolNegotiator delegate;

    Negotiator(InternalProtocolNegotiator.ProtocolNegotiator delegate) {
      this.delegate = delegate;
    }

    @Override
    public AsciiString scheme() {
      return delegate.scheme();
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
      grpcHandler.setCumulator(ByteToMessageDecoder.COMPOSITE_CUMULATOR);
      ChannelHandler negotiation = delegate.newHandler(grpcHandler);
      return new ChannelHandlerAdapter() {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
          grpcHandler.connection().addListener(new LargeFrames(ctx.channel(), grpcHandler));
          ctx.pipeline().replace(this, null, negotiation);
        }
      };
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  /** Sends the larger SETTINGS_MAX_FRAME_SIZE once, when the peer opens its first stream. Event loop only. */
  private static final class LargeFrames extends Http2ConnectionAdapter {
    private final Channel channel;
    private final GrpcHttp2ConnectionHandler handler;
    private boolean sent;

    LargeFrames(Channel channel, GrpcHttp2ConnectionHandler handler) {
      this.channel = channel;
      this.handler = handler;
    }

    @Override
    public void onStreamAdded(Http2Stream stream) {
      if (sent) {
        return;
      }
      ChannelHandlerContext ctx = channel.pipeline().context(handler);
      if (ctx == null) {
        return; // not in the pipeline (cannot happen once streams arrive); try on the next stream
      }
      sent = true;
      handler.encoder().writeSettings(ctx, new Http2Settings().maxFrameSize(MAX_FRAME_BYTES), ctx.newPromise());
      ctx.flush();
    }
  }
}
