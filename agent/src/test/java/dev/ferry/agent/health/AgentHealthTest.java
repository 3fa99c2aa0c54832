package dev.ferry.agent.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.Agent;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.service.systemd.Health;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's health check against a real agent's gRPC server (probed over loopback), with
 * time as a value: healthy while the server answers and the registration is in place; a
 * registration missing within the grace is shown but tolerated, past it the check fails; a
 * server that stops answering fails it.
 */
class AgentHealthTest {

  @Test
  void healthyOnlyWhileTheServerAnswersAndTheRegistrationIsInPlace(@TempDir Path dir) throws Exception {
    AtomicLong now = new AtomicLong(1_000_000_000L);
    AtomicBoolean registered = new AtomicBoolean(true);
    AgentTransport transport = new AgentTransport(DeadlineScale.ONE);
    Agent agent = Agent.start(Agent.Config.of("host1", new InetSocketAddress("127.0.0.1", 0), dir));
    try (AgentHealth health = new AgentHealth("serving as host1", transport, agent.address(), registered::get, () -> 2,
        Duration.ofSeconds(60), now::get)) {
      health.probe();
      Health h = health.check();
      assertTrue(h.healthy(), h.toString());
      assertEquals("serving as host1, 2 active migrations", h.detail());

      registered.set(false);
      now.addAndGet(Duration.ofSeconds(30).toNanos());
      health.probe();
      h = health.check();
      assertTrue(h.healthy(), "a registration missing for 30 s is tolerated: " + h);
      assertTrue(h.detail().endsWith("ZooKeeper registration missing for 30 s"), h.detail());

      now.addAndGet(Duration.ofSeconds(31).toNanos());
      health.probe();
      h = health.check();
      assertFalse(h.healthy(), "past the grace: " + h);
      assertEquals("not registered in ZooKeeper for 61 s", h.detail());

      registered.set(true);
      health.probe();
      assertTrue(health.check().healthy(), "registered again");

      agent.close(); // the server stops answering
      health.probe();
      assertTrue(health.check().healthy(), "one failed probe is not yet a verdict");
      now.addAndGet(Duration.ofSeconds(25).toNanos());
      health.probe();
      h = health.check();
      assertFalse(h.healthy(), h.toString());
      assertTrue(h.detail().startsWith("gRPC server not answering for 25 s (gRPC self-check failed: UNAVAILABLE"), h.detail());
    } finally {
      agent.close();
    }
  }
  @Test
  void theFirstSelfCheckMayTakeLongerThanLaterOnes(@TempDir Path dir) throws Exception {
    AtomicLong now = new AtomicLong(1_000_000_000L);
    AgentTransport transport = new AgentTransport(DeadlineScale.ONE);
    Agent agent = Agent.start(Agent.Config.of("host1", new InetSocketAddress("127.0.0.1", 0), dir));
    String address = agent.address();
    agent.close(); // never answers: as if the first TLS handshake of a fresh JVM were still going on
    try (AgentHealth health = new AgentHealth("serving as host1", transport, address, () -> true, () -> 0,
        Duration.ofMinutes(10), now::get)) {
      health.probe();
      // past the steady-state bound (3 probes + 5 s = 20 s), within the first answer's (20 s + 60 s)
      now.addAndGet(Duration.ofSeconds(79).toNanos());
      health.probe();
      Health h = health.check();
      assertTrue(h.healthy(), "the first answer gets 80 s: " + h);
      now.addAndGet(Duration.ofSeconds(2).toNanos());
      health.probe();
      h = health.check();
      assertFalse(h.healthy(), "no answer 81 s after the start: " + h);
      assertTrue(h.detail().startsWith("gRPC server not answering for 81 s"), h.detail());
    }
  }
}
