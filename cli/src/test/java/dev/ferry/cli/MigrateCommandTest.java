package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The command line without a coordinator: parsing, help, usage errors, an unreachable coordinator. */
class MigrateCommandTest {
    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static void assertOneLineUsageError(CliRun r, String expected) {
        assertEquals(ExitCode.USAGE, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertTrue(r.out().isEmpty(), r.out());
    }

    @Test
    void malformedDurationIsOneLineAndExitCode2() {
        CliRun r = run("4242", "--to", "host2", "--downtime-limit", "3x");
        assertOneLineUsageError(r, "malformed duration '3x': use e.g. 300ms, 2s");
        assertTrue(r.err().startsWith("migrate: Invalid value for option '--downtime-limit'"), r.err());
    }

    @Test
    void malformedRateSizeAndOthers() {
        assertOneLineUsageError(run("4242", "--to", "h", "--bandwidth", "fast"), "malformed rate 'fast'");
        assertOneLineUsageError(run("4242", "--to", "h", "--on-stall", "panic"), "--on-stall");
        assertOneLineUsageError(run("4242", "--to", "h", "--max-rounds", "0"), "--max-rounds must be 1..10000");
        assertOneLineUsageError(run("4242", "--to", "h", "--coordinator", "nowhere"), "malformed coordinator address 'nowhere'");
        assertOneLineUsageError(run("4242"), "missing --to <host>");
        assertOneLineUsageError(run(), "missing <pid>");
        assertOneLineUsageError(run("-5", "--to", "h"), "invalid pid -5");
        assertOneLineUsageError(run("abc", "--to", "h"), "'abc'");
        assertOneLineUsageError(run("4242", "--to", "h", "--frobnicate"), "Unknown option: '--frobnicate'");
        assertOneLineUsageError(run("report", "m-1"), "--svg");
    }

    @Test
    void helpExplainsUnitsDefaultsAndExitCodes() {
        CliRun r = run("--help");
        assertEquals(0, r.code());
        String help = r.out().replaceAll("\\s+", " ");
        for (String s : new String[] {"--downtime-limit", "300ms", "500MiB/s", "unlimited", "throttle, freeze, abort",
            "FERRY_COORDINATOR", "127.0.0.1:7000", "Exit codes:", "3 refused", "4 failed and rolled back",
            "5 cancelled", "6 unreachable", "status", "watch", "cancel", "agents", "report", "completion"}) {
            assertTrue(help.contains(s), "help lacks " + s + ":\n" + r.out());
        }
        assertTrue(run("watch", "--help").out().contains("Exit codes:"));
    }

    @Test
    void completionScriptIsGenerated() {
        CliRun r = run("completion");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("complete -F") && r.out().contains("migrate"), r.out().substring(0, 200));
        assertTrue(r.out().contains("--downtime-limit") && r.out().contains("status"));
    }

    @Test
    void unreachableCoordinatorIsOneLineAndExitCode6() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again below: nothing listens there
        }
        String at = "127.0.0.1:" + port;
        for (String[] args : new String[][] {{"4242", "--to", "host2", "--insecure", "--coordinator", at},
            {"status", "--insecure", "--coordinator", at}, {"list", "--insecure", "--coordinator", at}, {"agents", "--insecure", "--coordinator", at},
            {"cancel", "m-1", "--insecure", "--coordinator", at}, {"watch", "m-1", "--insecure", "--coordinator", at}}) {
            CliRun r = run(args);
            assertEquals(ExitCode.UNREACHABLE, r.code(), String.join(" ", args) + ": " + r);
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().startsWith("migrate: coordinator " + at + " unavailable"), r.err());
        }
    }

    @Test
    void verboseAddsTheStackTrace() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        CliRun r = run("list", "--insecure", "--coordinator", "127.0.0.1:" + port, "--verbose");
        assertEquals(ExitCode.UNREACHABLE, r.code());
        assertTrue(r.errLines().size() > 3 && r.err().contains("StatusRuntimeException"), r.err());
    }
}
