package dev.ferry.service.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class ConfigFileDefaultsTest {

    /** Stands for a daemon: the provider is wired exactly as the daemons wire it. */
    @Command(name = "ferry-test-daemon", mixinStandardHelpOptions = true, defaultValueProvider = TestDefaults.class)
    static final class Daemon implements Runnable {
        @Option(names = "--config") Path config;
        @Option(names = "--port", defaultValue = "7070") int port;
        @Option(names = {"-z", "--zk-connect"}, defaultValue = "127.0.0.1:2181") String zkConnect;
        @Option(names = "--dry-run") boolean dryRun;
        @Option(names = "--advertise-address") String advertiseAddress;

        @Override
        public void run() {
        }
    }

    /** The "default file" of the test daemon; set per test (tests in a class run one at a time). */
    static Path defaultFile;

    public static final class TestDefaults extends ConfigFileDefaults {
        public TestDefaults() {
            super(defaultFile, "--config");
        }
    }

    private final StringWriter errors = new StringWriter();

    private Daemon parse(int expectedExit, String... args) {
        Daemon daemon = new Daemon();
        CommandLine line = new CommandLine(daemon).setErr(new PrintWriter(errors));
        assertEquals(expectedExit, line.execute(args), errors.toString());
        return daemon;
    }

    @Test
    void builtInDefaultsWithoutAFile(@TempDir Path dir) {
        defaultFile = dir.resolve("absent.conf");
        Daemon daemon = parse(0);
        assertEquals(7070, daemon.port);
        assertEquals("127.0.0.1:2181", daemon.zkConnect);
        assertFalse(daemon.dryRun);
        assertNull(daemon.advertiseAddress);
    }

    @Test
    void theDefaultFileOverridesBuiltInDefaultsAndFlagsOverrideTheFile(@TempDir Path dir) throws Exception {
        defaultFile = dir.resolve("daemon.conf");
        Files.writeString(defaultFile, "port = 9000\nzk-connect = zk1:2181,zk2:2181\ndry-run = true\nadvertise-address =\n");
        Daemon fromFile = parse(0);
        assertEquals(9000, fromFile.port);
        assertEquals("zk1:2181,zk2:2181", fromFile.zkConnect);
        assertTrue(fromFile.dryRun);
        assertNull(fromFile.advertiseAddress, "empty value: built-in default");

        Daemon flags = parse(0, "--port", "1234", "-z", "zk9:2181");
        assertEquals(1234, flags.port);
        assertEquals("zk9:2181", flags.zkConnect);
    }

    @Test
    void configFlagNamesTheFile(@TempDir Path dir) throws Exception {
        defaultFile = dir.resolve("daemon.conf");
        Files.writeString(defaultFile, "port = 9000\n");
        Path other = dir.resolve("host2.conf");
        Files.writeString(other, "# host2\nport = 7071\n");
        assertEquals(7071, parse(0, "--config", other.toString()).port);
        assertEquals(7071, parse(0, "--config=" + other).port);
    }

    @Test
    void aMissingConfigFileIsAnError(@TempDir Path dir) {
        defaultFile = dir.resolve("daemon.conf");
        parse(2, "--config", dir.resolve("typo.conf").toString());
        assertTrue(errors.toString().contains(dir.resolve("typo.conf") + ": no such file"), errors.toString());
    }

    @Test
    void anUnknownKeyIsAnErrorNamingFileAndLine(@TempDir Path dir) throws Exception {
        defaultFile = dir.resolve("daemon.conf");
        Files.writeString(defaultFile, "port = 9000\n\nzk-conect = zk1:2181\n");
        parse(2);
        assertTrue(errors.toString().contains(defaultFile + ":3: unknown key 'zk-conect' for ferry-test-daemon (known keys: "
                + "advertise-address, dry-run, port, zk-connect)"), errors.toString());
    }

    @Test
    void aBadValueInTheFileIsReportedLikeABadFlag(@TempDir Path dir) throws Exception {
        defaultFile = dir.resolve("daemon.conf");
        Files.writeString(defaultFile, "port = seventy\n");
        parse(2);
        assertTrue(errors.toString().contains("'seventy' is not an int"), errors.toString());
    }

    @Test
    void helpShowsTheFileValuesAsDefaults(@TempDir Path dir) throws Exception {
        defaultFile = dir.resolve("daemon.conf");
        Files.writeString(defaultFile, "port = 9000\n");
        CommandLine line = new CommandLine(new Daemon());
        assertEquals("9000", line.getCommandSpec().findOption("--port").defaultValueString());
    }
}
