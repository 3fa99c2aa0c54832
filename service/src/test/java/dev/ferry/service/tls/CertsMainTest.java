package dev.ferry.service.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.service.auth.PeerIdentity;
import dev.ferry.service.auth.Role;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertsMainTest {

    @TempDir
    Path dir;

    @Test
    void initIssueShow() throws Exception {
        assertEquals(0, CertsMain.run("init", "--dir", dir.toString()));
        assertEquals(1, CertsMain.run("init", "--dir", dir.toString()), "an existing CA is not replaced silently");
        assertEquals(0, CertsMain.run("issue", "--dir", dir.toString(), "--role", "agent", "--name", "host1",
                "--dns", "host1", "--dns", "localhost", "--ip", "127.0.0.1"));
        X509Certificate cert = TlsContexts.readCertificates(dir.resolve("host1.crt")).get(0);
        PeerIdentity id = PeerIdentity.of(cert);
        assertEquals("host1", id.commonName());
        assertEquals(Set.of(Role.AGENT), id.roles());
        cert.verify(TlsContexts.readCertificates(dir.resolve("ca.crt")).get(0).getPublicKey());
        assertTrue(cert.getSubjectAlternativeNames().toString().contains("127.0.0.1"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("host1.key"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca.key"))));
        assertTrue(Files.readString(dir.resolve("host1.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
        // the files make a working TLS configuration
        assertEquals("host1", TransportSecurity.mutualTls(TlsFiles.inDirectory(dir, "host1")).identity().commonName());

        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, CertsMain.run("show", dir.resolve("host1.crt").toString()));
        } finally {
            System.setOut(saved);
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("roles: [agent]"), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void zkSecretWritesAPrivateFileOnceAndItReadsBack() throws Exception {
        java.nio.file.Path file = dir.resolve("zk-secret");
        assertEquals(0, CertsMain.run("zk-secret", "--file", file.toString()));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(file)));
        assertEquals("ferry", dev.ferry.service.zookeeper.ZooKeeperCredentials.fromSecretFile(file).user());
        String first = java.nio.file.Files.readString(file);
        assertNotEquals(0, CertsMain.run("zk-secret", "--file", file.toString()), "an existing secret is never replaced");
        assertEquals(first, java.nio.file.Files.readString(file));
    }

    @Test
    void badInputIsNamed() {
        assertNotEquals(0, CertsMain.run("issue", "--dir", dir.toString(), "--role", "root", "--name", "x"));
        assertNotEquals(0, CertsMain.run("issue", "--dir", dir.toString(), "--role", "agent", "--name", "x"), "no CA yet");
        assertEquals(0, CertsMain.run("init", "--dir", dir.toString()));
        assertNotEquals(0, CertsMain.run("issue", "--dir", dir.toString(), "--role", "agent", "--name", "x", "--ip", "not-an-ip"));
        assertNotEquals(0, CertsMain.run("issue", "--dir", dir.toString(), "--role", "agent", "--name", "a,b"));
        assertNotEquals(0, CertsMain.run(new String[0]));
    }

    @Test
    void devCreatesAWholeCluster() throws Exception {
        assertEquals(0, CertsMain.run("dev", "--dir", dir.toString(), "host1", "host2"));
        for (String name : new String[] {"host1", "host2", "coordinator", "operator", "viewer"}) {
            assertTrue(Files.exists(dir.resolve(name + ".crt")) && Files.exists(dir.resolve(name + ".key")), name);
        }
        X509Certificate ca1 = TlsContexts.readCertificates(dir.resolve("ca.crt")).get(0);
        assertEquals(0, CertsMain.run("dev", "--dir", dir.toString(), "host3"));
        assertEquals(ca1, TlsContexts.readCertificates(dir.resolve("ca.crt")).get(0), "the CA is reused");
        assertEquals(Set.of(Role.VIEWER), PeerIdentity.of(TlsContexts.readCertificates(dir.resolve("viewer.crt")).get(0)).roles());
    }
}
