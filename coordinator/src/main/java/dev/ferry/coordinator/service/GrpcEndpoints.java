package dev.ferry.coordinator.service;

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
 * The one place that builds the coordinator's gRPC servers and channels (transport security is
 * added here), and that scales deadlines: every call's deadline is its base times
 * {@code FERRY_DEADLINE_SCALE} (default 1; larger in the emulated lab VM, where JVMs are slow).
 */
public final class GrpcEndpoints {
  public static final String SCALE_ENV = "FERRY_DEADLINE_SCALE";

  private final double scale;

  public GrpcEndpoints(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException(SCALE_ENV + " must be a positive number, got " + scale);
    }
    this.scale = scale;
  }

  /** Scale from the environment; a malformed value is an error naming the variable. */
  public static GrpcEndpoints fromEnvironment() {
    String v = System.getenv(SCALE_ENV);
    if (v == null || v.isBlank()) {
      return new GrpcEndpoints(1);
    }
    try {
      return new GrpcEndpoints(Double.parseDouble(v.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(SCALE_ENV + " must be a positive number, got '" + v + "'", e);
    }
  }

  public Duration deadline(Duration base) {
    return Duration.ofNanos((long) (base.toNanos() * scale));
  }

  public double scale() {
    return scale;
  }

  public Server server(InetSocketAddress listen, List<BindableService> services, Executor executor) {
    NettyServerBuilder b = NettyServerBuilder.forAddress(listen).executor(executor);
    services.forEach(b::addService);
    return b.build();
  }

  public ManagedChannel channel(String target) {
    return NettyChannelBuilder.forTarget(target).usePlaintext().build();
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
