package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.agent.transport.DeadlineScale;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.DescribeRequest;
import dev.ferry.proto.InspectProcessRequest;
import dev.ferry.proto.SourceAgentGrpc;
import dev.ferry.proto.StartTrackingRequest;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real agent against a real (embedded) ZooKeeper: its EPHEMERAL node appears and goes with it. */
class AgentRegistrationTest {

  @Test
  void theAgentRegistersAnEphemeralNodeWithItsCapabilitiesAndAnswersBadInputClearly(@TempDir Path dir) throws Exception {
    try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
        CuratorFramework client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100))) {
      client.start();
      Agent agent = Agent.start(Agent.Config.of("host1", new InetSocketAddress("127.0.0.1", 0), dir)
          .withZookeeper(zk.connectString(), "/ferry"));
      try {
        assertTrue(agent.awaitRegistered(Duration.ofSeconds(30)), "registered within 30 s");
        Stat stat = new Stat();
        byte[] data = client.getData().storingStatIn(stat).forPath("/ferry/agents/host1");
        assertTrue(stat.getEphemeralOwner() != 0, "the node is EPHEMERAL");
        AgentCapabilities caps = AgentCapabilities.parseFrom(data);
        assertEquals("host1", caps.getHost());
        assertEquals(agent.address(), caps.getAddress());
        assertFalse(caps.getKernel().isEmpty());
        assertTrue(caps.getFreeDiskBytes() > 0);
        if (!caps.getSoftDirty()) {
          assertFalse(caps.getSoftDirtyDetail().isEmpty(), "says why soft-dirty is missing");
        }

        AgentTransport transport = new AgentTransport(DeadlineScale.ONE);
        ManagedChannel channel = transport.channel(agent.address());
        try {
          var stub = transport.withDeadline(SourceAgentGrpc.newBlockingStub(channel), Duration.ofSeconds(30));
          assertEquals("host1", stub.describe(DescribeRequest.getDefaultInstance()).getHost());
          StatusRuntimeException noPid = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
              () -> transport.withDeadline(SourceAgentGrpc.newBlockingStub(channel), Duration.ofSeconds(30))
                  .inspectProcess(InspectProcessRequest.newBuilder().setPid(Integer.MAX_VALUE).build()));
          assertEquals(Status.Code.NOT_FOUND, noPid.getStatus().getCode());
          StatusRuntimeException self = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
              () -> transport.withDeadline(SourceAgentGrpc.newBlockingStub(channel), Duration.ofSeconds(30))
                  .inspectProcess(InspectProcessRequest.newBuilder().setPid((int) ProcessHandle.current().pid()).build()));
          assertEquals(Status.Code.FAILED_PRECONDITION, self.getStatus().getCode());
          StatusRuntimeException kthread = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
              () -> transport.withDeadline(SourceAgentGrpc.newBlockingStub(channel), Duration.ofSeconds(30))
                  .inspectProcess(InspectProcessRequest.newBuilder().setPid(2).build()));
          assertEquals(Status.Code.FAILED_PRECONDITION, kthread.getStatus().getCode(), kthread.getStatus().toString());
          StatusRuntimeException noId = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
              () -> transport.withDeadline(SourceAgentGrpc.newBlockingStub(channel), Duration.ofSeconds(30))
                  .startTracking(StartTrackingRequest.newBuilder().setPid(1).build()));
          assertEquals(Status.Code.INVALID_ARGUMENT, noId.getStatus().getCode());
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      } finally {
        agent.close();
      }
      // Closing ends the session: the ephemeral node goes at once.
      assertEquals(null, client.checkExists().forPath("/ferry/agents/host1"));
    }
  }
}
