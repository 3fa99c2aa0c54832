package dev.ferry.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * The training run of the CLI's class-data-sharing archive (bin/migrate records the classes it
 * loads with {@code -XX:ArchiveClassesAtExit}, then starts later runs from that archive). It
 * walks the paths whose first output matters: {@code --help}, and {@code list}/{@code agents}
 * against a loopback port nobody listens on (picocli parsing, the credential lookup, the gRPC/Netty
 * client stack, the error path), without touching any real coordinator. Output is discarded; exit 0.
 */
public final class StartupTraining {
    private StartupTraining() {
    }

    public static void main(String[] args) throws IOException {
        CliRuntime.prepare(); // as MigrateCommand.main, so that the same classes load
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort(); // free again once closed: connections are refused
        }
        String at = "127.0.0.1:" + closedPort;
        String[][] runs = {
            {"--help"},
            {"list", "--help"},
            {"list", "--coordinator", at}, // the mTLS credential lookup (no certificate here: its error path)
            {"list", "--insecure", "--coordinator", at}, // the gRPC client stack up to the refused connection
            {"agents", "--insecure", "--coordinator", at},
            {"status", "m-none", "--insecure", "--coordinator", at, "--output", "json"},
        };
        for (String[] run : runs) {
            MigrateCommand.run(run, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                    new ByteArrayInputStream(new byte[0]));
        }
    }
}
