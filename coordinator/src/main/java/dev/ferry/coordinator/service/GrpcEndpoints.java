package dev.ferry.coordinator.service;

import dev.ferry.service.auth.AccessPolicy;
import dev.ferry.service.tls.HandshakeRetry;
import dev.ferry.service.tls.ServerHandshake;
import dev.ferry.service.tls.TransportSecurity;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The one place that builds the coordinator's gRPC servers and channels, and that scales
 * deadlines: every call's deadline is its base times {@code FERRY_DEADLINE_SCALE} (default 1;
 * larger in the emulated lab VM, where JVMs are slow).
 *
 * <p>Transport security: the server and every channel to an agent use the given
 * {@link TransportSecurity} (mutual TLS; plaintext only when explicitly asked for). The server
 * authorizes each call by the caller's certificate role ({@link AccessPolicy#ferry()}: operators
 * start and cancel, operators and viewers look; anything else PERMISSION_DENIED, no certificate
 * UNAUTHENTICATED; refusals logged at WARN).
 */
public final class GrpcEndpoints {
  public static final String SCALE_ENV = "FERRY_DEADLINE_SCALE";
  /** Coordinator messages are small (a list of migrations or agents); a larger one is refused. */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  private final double scale;
  private final TransportSecurity security;

  public GrpcEndpoints(double scale, TransportSecurity security) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException(SCALE_ENV + " must be a positive number, got " + scale);
    }
    this.scale = scale;
    this.security = java.util.Objects.requireNonNull(security, "security");
  }

  /** Scale from the environment; a malformed value is an error naming the variable. */
  public static GrpcEndpoints fromEnvironment(TransportSecurity security) {
    String v = System.getenv(SCALE_ENV);
    if (v == null || v.isBlank()) {
      return new GrpcEndpoints(1, security);
    }
    try {
      return new GrpcEndpoints(Double.parseDouble(v.trim()), security);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(SCALE_ENV + " must be a positive number, got '" + v + "'", e);
    }
  }

  public TransportSecurity security() {
    return security;
  }

  public Duration deadline(Duration base) {
    return Duration.ofNanos((long) (base.toNanos() * scale));
  }

  public double scale() {
    return scale;
  }

  public Server server(InetSocketAddress listen, List<BindableService> services, Executor executor) {
    // Netty's TLS handshake limit (10 s) scaled like every deadline: under emulation a cold CLI's
    // first handshake outlasted it, and the waiting coordinator closed the connection (the CLI saw
    // "Network closed for unknown reason")
    NettyServerBuilder b = NettyServerBuilder.forAddress(listen,
            security.serverCredentials(deadline(ServerHandshake.NETTY_DEFAULT)))
        .intercept(security.authorization(AccessPolicy.ferry()))
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        // gRPC drops a connection whose TLS handshake takes over 120 s; a slow (emulated) machine
        // needs longer, like every other deadline here
        .handshakeTimeout(deadline(Duration.ofSeconds(120)).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .executor(executor);
    services.forEach(b::addService);
    return b.build();
  }

  /**
   * A channel to {@code target} ("host:port" of an agent, or of a coordinator in tests). With
   * mutual TLS the peer's certificate must be signed by Ferry's CA and name {@code target}'s host.
   * A unary call that provably never reached the agent (its connection failed before the call's
   * stream was created on it: a TLS handshake that timed out on either side, which a cold JVM
   * under emulation can cause) is repeated once on the next connection ({@link HandshakeRetry}),
   * as the CLI does; the error otherwise names the agent's address and the handshake.
   */
  public ManagedChannel channel(String target) {
    return NettyChannelBuilder.forTarget(target, security.channelCredentials())
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .intercept(new HandshakeRetry())
        .build();
  }

  /** "host:port" to an address; the port must be given. */
  public static InetSocketAddress parseAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("expected host:port, got '" + hostPort + "'");
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("expected host:port, got '" + hostPort + "'", e);
    }
  }
}
