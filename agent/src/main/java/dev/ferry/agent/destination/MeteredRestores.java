package dev.ferry.agent.destination;

import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.agent.store.PageStore;
import dev.ferry.proto.RestoreReply;
import dev.ferry.proto.ResumeRestoredReply;
import io.grpc.StatusException;
import java.time.Duration;

/**
 * A restore handler that counts its restores in the agent's metrics ({@code
 * ferry_agent_restores_total{result}}, {@code ferry_agent_restore_duration_seconds}): CRIU's own
 * restore time when it succeeded, the whole attempt when it failed. Everything else is the
 * delegate's. Adds no state of its own (thread confinement as the delegate's).
 */
public final class MeteredRestores implements RestoreHandler {
  private final RestoreHandler delegate;
  private final AgentMetrics metrics;

  public MeteredRestores(RestoreHandler delegate, AgentMetrics metrics) {
    this.delegate = delegate;
    this.metrics = metrics;
  }

  @Override
  public RestoreReply restore(PageStore store) throws StatusException, InterruptedException {
    long start = System.nanoTime();
    boolean ok = false;
    RestoreReply reply = null;
    try {
      reply = delegate.restore(store);
      ok = true;
      return reply;
    } finally {
      Duration took = ok && reply.getRestoreMicros() > 0 ? Duration.ofNanos(reply.getRestoreMicros() * 1000)
          : Duration.ofNanos(System.nanoTime() - start);
      metrics.restore(took, ok);
    }
  }

  @Override
  public void prepare(PageStore store) {
    delegate.prepare(store);
  }

  @Override
  public ResumeRestoredReply resume(String migrationId) throws StatusException {
    return delegate.resume(migrationId);
  }

  @Override
  public void awaitPagesServed(String migrationId, Duration within) throws InterruptedException {
    delegate.awaitPagesServed(migrationId, within);
  }

  @Override
  public void killRestored(String migrationId) {
    delegate.killRestored(migrationId);
  }
}
