package dev.ferry.coordinator.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.Agent;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.DescribeRequest;
import dev.ferry.service.tls.DevCertificates;
import dev.ferry.service.tls.TransportSecurity;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's calls to an agent over mutual TLS survive a first handshake that outlasts
 * Netty's fixed 10 s client timeout (a cold JVM under emulation): a real agent behind a proxy
 * that stalls the first connection answers the repeated call. A refused connection is not
 * repeated.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AgentHandshakeRetryTest {
  private static final Duration DEADLINE = Duration.ofSeconds(60);

  @TempDir
  static Path dir;
  static DevCertificates certs;
  static Agent agent;

  @BeforeAll
  static void agent() throws Exception {
    certs = DevCertificates.createAll(dir.resolve("certs"), "host1");
    agent = Agent.start(Agent.Config.of("host1", new InetSocketAddress("127.0.0.1", 0), dir.resolve("host1"))
        .withSecurity(TransportSecurity.mutualTls(certs.agent("host1"))));
  }

  @AfterAll
  static void stop() {
    agent.close();
  }

  private static AgentClients clients() {
    return new AgentClients(new GrpcEndpoints(1, TransportSecurity.mutualTls(certs.coordinator())));
  }

  @Test
  void aCallWhoseFirstHandshakeTimesOutIsRepeatedOnAFreshConnection() throws Exception {
    try (StallingProxy proxy = new StallingProxy(agent.port(), 1); AgentClients clients = clients()) {
      AgentCapabilities caps = clients.source("127.0.0.1:" + proxy.port(), DEADLINE)
          .describe(DescribeRequest.getDefaultInstance()).get(DEADLINE.toSeconds() + 30, TimeUnit.SECONDS);
      assertEquals("host1", caps.getHost());
      assertEquals(2, proxy.accepted(), "the stalled connection, then the one that served the repeat");
    }
  }

  @Test
  void aRefusedConnectionFailsAtOnce() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    try (AgentClients clients = clients()) {
      long started = System.nanoTime();
      ExecutionException e = assertThrows(ExecutionException.class, () -> clients.source("127.0.0.1:" + closed, DEADLINE)
          .describe(DescribeRequest.getDefaultInstance()).get(DEADLINE.toSeconds() + 30, TimeUnit.SECONDS));
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(e.getCause()).getCode(), e.toString());
      assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, "not repeated nor waited for the deadline: " + took);
    }
  }
}
