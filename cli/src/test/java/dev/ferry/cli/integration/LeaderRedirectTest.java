package dev.ferry.cli.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.Agent;
import dev.ferry.cli.ExitCode;
import dev.ferry.cli.CliRun;
import dev.ferry.coordinator.service.Coordinator;
import dev.ferry.proto.CoordinatorGrpc;
import dev.ferry.proto.MigrationRef;
import dev.ferry.service.leader.LeaderHint;
import dev.ferry.service.zookeeper.EmbeddedZooKeeper;
import dev.ferry.testkit.Workload;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two coordinators sharing one embedded ZooKeeper: the one that is not the leader refuses calls
 * that change a migration with UNAVAILABLE naming the leader in a trailer, and the CLI pointed at
 * it follows that once: the migration starts and is cancelled on the leader.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LeaderRedirectTest {
    @TempDir
    Path dir;

    private static CliRun migrate(String at, String... args) {
        // --insecure: TLS is the subject of MutualTlsPathTest, not of this test
        return CliRun.of(CliRun.plus(args, "--coordinator", at, "--insecure"));
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        dev.ferry.testkit.Await.until(what, condition, Duration.ofSeconds(60));
    }

    @Test
    void theCliFollowsAFollowerToTheLeaderOnce() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
             Agent host1 = LoopbackParts.agent("host1", dir, zk, LoopbackParts.PLAINTEXT);
             Agent host2 = LoopbackParts.agent("host2", dir, zk, LoopbackParts.PLAINTEXT);
             Coordinator a = LoopbackParts.coordinator(zk, LoopbackParts.PLAINTEXT);
             Coordinator b = LoopbackParts.coordinator(zk, LoopbackParts.PLAINTEXT);
             Workload w = Workload.memtouch().sizeMib(16).ratePagesPerSecond(20_000).start()) {
            assertTrue(host1.awaitRegistered(Duration.ofSeconds(30)) && host2.awaitRegistered(Duration.ofSeconds(30)));
            await("a leader", () -> a.isLeader() || b.isLeader());
            Coordinator leader = a.isLeader() ? a : b;
            Coordinator follower = a.isLeader() ? b : a;
            await("both agents listed by the follower", () -> migrate(follower.address(), "agents").out().contains("host2"));
            w.awaitOkLines(1, Duration.ofSeconds(30));

            // What the follower answers, as any gRPC client sees it: UNAVAILABLE + the leader's address.
            ManagedChannel ch = Grpc.newChannelBuilder(follower.address(), InsecureChannelCredentials.create()).build();
            try {
                StatusRuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                        () -> CoordinatorGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                                .cancelMigration(MigrationRef.newBuilder().setMigrationId("m-none").build()));
                assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());
                assertEquals(Optional.of(leader.address()), LeaderHint.of(refused), refused.toString());
            } finally {
                ch.shutdownNow();
            }

            // The CLI pointed at the follower: started, then cancelled, on the leader.
            CliRun started = migrate(follower.address(), Long.toString(w.pid()), "--from", "host1", "--to", "host2",
                    "--dry-run", "--downtime-limit", "1ms", "--max-rounds", "1000", "--detach");
            assertEquals(ExitCode.DONE, started.code(), started.toString());
            Matcher id = Pattern.compile("started migration (\\S+) ").matcher(started.out());
            assertTrue(id.find(), started.out());
            await("a round", () -> migrate(follower.address(), "status", id.group(1)).out().matches("(?s).*round [1-9].*"));
            CliRun cancel = migrate(follower.address(), "cancel", id.group(1));
            assertEquals(ExitCode.DONE, cancel.code(), cancel.toString());
            CliRun watch = migrate(follower.address(), "watch", id.group(1));
            assertEquals(ExitCode.CANCELLED, watch.code(), watch.toString());
            assertTrue(leader.isLeader() && !follower.isLeader(), "no leader change meanwhile: the redirect did it");
            assertTrue(w.isAlive(), "the cancelled dry run left the process running");
            w.assertNoCorruption();
        }
    }
}
