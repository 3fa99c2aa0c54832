package dev.ferry.agent.source;

import dev.ferry.agent.metrics.AgentMetrics;
import dev.ferry.proto.CheckpointReply;
import dev.ferry.proto.CheckpointRequest;
import io.grpc.StatusException;
import java.time.Duration;
import java.util.Optional;

/**
 * A checkpoint handler that counts its dumps in the agent's metrics ({@code
 * ferry_agent_checkpoints_total{result}}, {@code ferry_agent_checkpoint_duration_seconds}): CRIU's
 * own dump time when the dump succeeded, the whole attempt when it failed. Everything else is the
 * delegate's. Adds no state of its own (thread confinement as the delegate's).
 */
public final class MeteredCheckpoints implements CheckpointHandler {
  private final CheckpointHandler delegate;
  private final AgentMetrics metrics;

  public MeteredCheckpoints(CheckpointHandler delegate, AgentMetrics metrics) {
    this.delegate = delegate;
    this.metrics = metrics;
  }

  @Override
  public CheckpointReply checkpoint(SourceMigration migration, CheckpointRequest request) throws StatusException, InterruptedException {
    long start = System.nanoTime();
    boolean ok = false;
    CheckpointReply reply = null;
    try {
      reply = delegate.checkpoint(migration, request);
      ok = true;
      return reply;
    } finally {
      Duration took = ok && reply.getDumpMicros() > 0 ? Duration.ofNanos(reply.getDumpMicros() * 1000)
          : Duration.ofNanos(System.nanoTime() - start);
      metrics.checkpoint(took, ok);
    }
  }

  @Override
  public Optional<Boolean> resume(String migrationId) {
    return delegate.resume(migrationId);
  }

  @Override
  public Optional<Boolean> kill(String migrationId) {
    return delegate.kill(migrationId);
  }
}
