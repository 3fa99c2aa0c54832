package dev.ferry.service.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.service.auth.AccessPolicy;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemons' TLS warm-up before READY=1, against a real mutual-TLS gRPC server on loopback. */
class TlsWarmUpTest {

    @TempDir
    Path dir;

    @Test
    void aHandshakeWithTheOwnServerGetsTheConnectionReadyAndCallsNothing() throws Exception {
        DevCertificates certs = DevCertificates.createAll(dir, "host1");
        TransportSecurity agent = TransportSecurity.mutualTls(certs.agent("host1"));
        try (LoopbackServer server = new LoopbackServer(agent.serverCredentials(Duration.ofSeconds(30)),
                agent.authorization(AccessPolicy.ferry()))) {
            assertTrue(TlsWarmUp.run(agent, "127.0.0.1", server.port(), Duration.ofSeconds(30)).isPresent());
            assertEquals(0, server.invocations.size());
        }
    }

    @Test
    void nothingListeningEndsTheWarmUpAtOnceWithoutFailingTheDaemon() throws Exception {
        DevCertificates certs = DevCertificates.createAll(dir, "host1");
        int freePort;
        try (ServerSocket s = new ServerSocket(0)) {
            freePort = s.getLocalPort();
        }
        long start = System.nanoTime();
        assertTrue(TlsWarmUp.run(TransportSecurity.mutualTls(certs.agent("host1")), "127.0.0.1", freePort,
                Duration.ofSeconds(60)).isEmpty());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(30)) < 0,
                "a refused connection does not wait for the whole limit");
    }
}
