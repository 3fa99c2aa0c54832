package dev.ferry.agent.health;

import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.service.systemd.Health;
import dev.ferry.service.systemd.HealthCheck;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The agent's health for the service watchdog: healthy while (1) its own gRPC server answers a
 * {@code grpc.health.v1} check over the network, through the same transport (TLS) its peers use,
 * and (2) its ZooKeeper registration exists, or has been missing for less than a grace period
 * (Curator re-creates it after a session loss; a ZooKeeper outage alone should not make systemd
 * restart every agent at once, but a registration that never comes back should).
 *
 * <p>The probe is an RPC, so it runs on the agent's scheduler every {@link #PROBE_EVERY}, never on
 * the watchdog's thread; {@link #check} only reads what the last probe found (cheap, non-blocking).
 * Thread safety: probe results are published through volatile fields.
 */
public final class AgentHealth implements HealthCheck, AutoCloseable {
  static final Duration PROBE_EVERY = Duration.ofSeconds(5);
  /** Extra time (scaled) the first self-check may take beyond {@code probeStale}. */
  static final Duration FIRST_ANSWER_ALLOWANCE = Duration.ofSeconds(60);

  private final String serving;
  private final ManagedChannel channel;
  private final AgentTransport transport;
  private final BooleanSupplier registered;
  private final IntSupplier activeMigrations;
  private final Duration probeStale;
  /**
   * The bound before the first answer: a fresh JVM's first self-check loads the TLS stack and
   * does its first handshake, which took over a minute in the emulated lab VM under load (systemd
   * then killed both agents 30 s after READY=1). Scaled like every deadline.
   */
  private final Duration firstAnswerStale;
  /** Whether a probe has ever found the server serving; written by the probe, read by check(). */
  private volatile boolean answered;
  private final Duration zkGrace;
  private final LongSupplier clock;
  private final long startedNanos;
  private volatile long lastServingNanos;
  private volatile String lastProblem = "no self-check yet";
  /** When the registration was last seen present (or the start); read by check(). */
  private volatile long lastRegisteredNanos;
  private ScheduledFuture<?> probing;

  /**
   * @param serving the status line while healthy, e.g. "serving on 127.0.0.1:7001 as host1"
   * @param selfAddress host:port of this agent's own server
   * @param registered whether the ZooKeeper node exists now (always true without ZooKeeper)
   * @param zkGrace how long a missing registration is tolerated
   * @param clock nanoseconds (System::nanoTime; a value in tests)
   */
  public AgentHealth(String serving, AgentTransport transport, String selfAddress, BooleanSupplier registered,
      IntSupplier activeMigrations, Duration zkGrace, LongSupplier clock) {
    this.serving = serving;
    this.transport = transport;
    this.channel = transport.channel(selfAddress);
    this.registered = registered;
    this.activeMigrations = activeMigrations;
    // three missed probes (each with its own scaled deadline) before the server counts as not answering
    this.probeStale = PROBE_EVERY.multipliedBy(3).plus(transport.scaled(Duration.ofSeconds(5)));
    this.firstAnswerStale = probeStale.plus(transport.scaled(FIRST_ANSWER_ALLOWANCE));
    this.zkGrace = zkGrace;
    this.clock = clock;
    this.startedNanos = clock.getAsLong();
    this.lastServingNanos = startedNanos;
    this.lastRegisteredNanos = startedNanos;
  }

  /** Starts probing on {@code scheduler} (the agent's timer thread; each probe is one short RPC). */
  public AgentHealth start(ScheduledExecutorService scheduler) {
    probing = scheduler.scheduleWithFixedDelay(this::probe, 0, PROBE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** One probe: the server's health service, and whether the registration exists. */
  void probe() {
    try {
      HealthCheckResponse r = transport.withDeadline(HealthGrpc.newBlockingStub(channel), Duration.ofSeconds(5))
          .check(HealthCheckRequest.getDefaultInstance());
      if (r.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
        lastServingNanos = clock.getAsLong();
        lastProblem = null;
        answered = true;
      } else {
        lastProblem = "gRPC server says " + r.getStatus();
      }
    } catch (StatusRuntimeException e) {
      lastProblem = "gRPC self-check failed: " + e.getStatus().getCode() + " " + e.getStatus().getDescription();
    }
    if (registered.getAsBoolean()) {
      lastRegisteredNanos = clock.getAsLong();
    }
  }

  @Override
  public Health check() {
    long now = clock.getAsLong();
    long silentNanos = now - lastServingNanos;
    if (silentNanos > (answered ? probeStale : firstAnswerStale).toNanos()) {
      return Health.failing("gRPC server not answering for " + TimeUnit.NANOSECONDS.toSeconds(silentNanos) + " s ("
          + lastProblem + ")");
    }
    long unregistered = now - lastRegisteredNanos;
    if (unregistered > zkGrace.toNanos()) {
      return Health.failing("not registered in ZooKeeper for " + TimeUnit.NANOSECONDS.toSeconds(unregistered) + " s");
    }
    int active = activeMigrations.getAsInt();
    String line = serving + ", " + active + (active == 1 ? " active migration" : " active migrations");
    // the registration may be briefly missing (session moving): still healthy, but say so
    return Health.ok(unregistered > PROBE_EVERY.multipliedBy(2).toNanos()
        ? line + "; ZooKeeper registration missing for " + TimeUnit.NANOSECONDS.toSeconds(unregistered) + " s" : line);
  }

  @Override
  public void close() {
    if (probing != null) {
      probing.cancel(false);
    }
    channel.shutdownNow();
  }
}
