package dev.ferry.agent.metrics;

import static dev.ferry.testkit.MetricsScrape.scrape;
import static dev.ferry.testkit.MetricsScrape.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.agent.destination.MeteredRestores;
import dev.ferry.agent.destination.RestoreHandler;
import dev.ferry.agent.source.CheckpointHandler;
import dev.ferry.agent.source.MeteredCheckpoints;
import dev.ferry.agent.store.PageStore;
import dev.ferry.proto.CheckpointReply;
import dev.ferry.proto.CheckpointRequest;
import dev.ferry.proto.RestoreReply;
import dev.ferry.proto.ResumeRestoredReply;
import io.grpc.Status;
import io.grpc.StatusException;
import org.junit.jupiter.api.Test;

/** The switch-over's CRIU calls are counted by result, with CRIU's own time when it succeeded (pure unit: delegates are lambdas). */
class MeteredHandlersTest {

  @Test
  void checkpointsAreCountedByResultWithCriusOwnDumpTime() throws Exception {
    try (AgentMetrics m = AgentMetrics.serve("127.0.0.1", 0)) {
      assertEquals(0, value(scrape(m.port()), "ferry_agent_checkpoints_total{result=\"ok\"}"), "exposed before the first dump");
      CheckpointHandler ok = (migration, request) -> CheckpointReply.newBuilder().setDumpMicros(3_000_000).build();
      new MeteredCheckpoints(ok, m).checkpoint(null, CheckpointRequest.getDefaultInstance());
      CheckpointHandler failing = (migration, request) -> {
        throw Status.ABORTED.withDescription("criu dump failed").asException();
      };
      assertThrows(StatusException.class, () -> new MeteredCheckpoints(failing, m).checkpoint(null, CheckpointRequest.getDefaultInstance()));
      String text = scrape(m.port());
      assertEquals(1, value(text, "ferry_agent_checkpoints_total{result=\"ok\"}"));
      assertEquals(1, value(text, "ferry_agent_checkpoints_total{result=\"failed\"}"));
      // 3 s is CRIU's dump time, not this call's microseconds: it lands in the 5 s bucket, not the 2 s one
      assertEquals(1, value(text, "ferry_agent_checkpoint_duration_seconds_bucket{le=\"2.0\"}"), "only the failed attempt is fast");
      assertEquals(2, value(text, "ferry_agent_checkpoint_duration_seconds_bucket{le=\"5.0\"}"));
    }
  }

  @Test
  void restoresAreCountedByResult() throws Exception {
    try (AgentMetrics m = AgentMetrics.serve("127.0.0.1", 0)) {
      RestoreHandler handler = new RestoreHandler() {
        int calls;

        @Override
        public RestoreReply restore(PageStore store) throws StatusException {
          if (calls++ > 0) {
            throw Status.DATA_LOSS.withDescription("parent check failed").asException();
          }
          return RestoreReply.newBuilder().setRestoredPid(42).setRestoreMicros(700_000).build();
        }

        @Override
        public ResumeRestoredReply resume(String migrationId) {
          return ResumeRestoredReply.newBuilder().setPid(42).build();
        }

        @Override
        public void killRestored(String migrationId) {}
      };
      MeteredRestores metered = new MeteredRestores(handler, m);
      assertEquals(42, metered.restore(null).getRestoredPid());
      assertThrows(StatusException.class, () -> metered.restore(null));
      assertEquals(42, metered.resume("m").getPid(), "the rest is the delegate's");
      String text = scrape(m.port());
      assertEquals(1, value(text, "ferry_agent_restores_total{result=\"ok\"}"));
      assertEquals(1, value(text, "ferry_agent_restores_total{result=\"failed\"}"));
    }
  }
}
