package dev.ferry.service.zookeeper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/** A real single-node ZooKeeper on 127.0.0.1 with extra server properties (testkit's takes none). */
final class EmbeddedZooKeeper implements AutoCloseable {

    private final ZooKeeperServerEmbedded server;
    final String connectString;

    EmbeddedZooKeeper(Path baseDir, Properties extra) throws Exception {
        java.nio.file.Files.createDirectories(baseDir);
        int port = freePort();
        Properties p = new Properties();
        p.setProperty("clientPort", Integer.toString(port));
        p.setProperty("clientPortAddress", "127.0.0.1");
        p.setProperty("tickTime", "500");
        p.setProperty("admin.enableServer", "false");
        p.putAll(extra);
        server = ZooKeeperServerEmbedded.builder().baseDir(baseDir).configuration(p).exitHandler(ExitHandler.LOG_ONLY).build();
        server.start(30_000);
        connectString = "127.0.0.1:" + port;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
