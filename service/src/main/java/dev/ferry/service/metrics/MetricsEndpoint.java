package dev.ferry.service.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.Objects;

/**
 * One registry served on {@code http://host:port/metrics} (Prometheus text or protobuf format,
 * negotiated by the scraper) by the official client's HTTP server, for as long as this object is
 * open. The one place the daemons' endpoint lifecycle lives: the coordinator's and the agents'
 * metrics only fill their registries.
 *
 * <p>The server answers on its own small thread pool; a scrape reads the registry's lock-free
 * metrics and never blocks a gRPC or ZooKeeper thread.
 */
public final class MetricsEndpoint implements AutoCloseable {
  /** Option text shared by the daemons' {@code --metrics-port}. */
  public static final String PORT_HELP = "TCP port to serve Prometheus metrics on, at http://<listen host>:PORT/metrics; "
      + "0 (the default) serves none.";

  private final HTTPServer server;
  private final String host;
  private boolean closed; // guarded by this

  private MetricsEndpoint(HTTPServer server, String host) {
    this.server = server;
    this.host = host;
  }

  /**
   * Starts serving {@code registry}.
   *
   * @param host address to bind (e.g. the daemon's gRPC listen host)
   * @param port TCP port; 0 picks a free one (see {@link #port()})
   * @throws IOException naming the address when it cannot be bound
   */
  public static MetricsEndpoint serve(PrometheusRegistry registry, String host, int port) throws IOException {
    Objects.requireNonNull(registry, "registry");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("metrics port must be 0..65535, got " + port);
    }
    try {
      return new MetricsEndpoint(HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart(), host);
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /** The bound port (the actual one when 0 was asked). */
  public int port() {
    return server.getPort();
  }

  /** Where to scrape, e.g. {@code http://127.0.0.1:9400/metrics}. */
  public String url() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "http://" + h + ":" + port() + "/metrics";
  }

  /** Stops the server; scrapes then fail to connect. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    server.close();
  }
}
