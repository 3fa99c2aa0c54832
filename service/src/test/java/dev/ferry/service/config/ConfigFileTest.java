package dev.ferry.service.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {

    @Test
    void readsKeysAndValuesIgnoringCommentsAndBlankLines() throws Exception {
        ConfigFile file = ConfigFile.parse("agent.conf", List.of(
                "# Ferry agent",
                "",
                "  zk-connect =  zk1:2181,zk2:2181/ferry  ",
                "; another comment",
                "store-dir=/var/lib/ferry/store#1",
                "advertise-address =",
                "tls.enabled = true"));
        assertEquals(List.of("zk-connect", "store-dir", "advertise-address", "tls.enabled"), List.copyOf(file.keys()));
        assertEquals(Optional.of("zk1:2181,zk2:2181/ferry"), file.value("zk-connect"));
        assertEquals(Optional.of("/var/lib/ferry/store#1"), file.value("store-dir"), "no inline comments: '#' belongs to the value");
        assertEquals(Optional.empty(), file.value("advertise-address"), "an empty value means not set");
        assertEquals(Optional.empty(), file.value("absent"));
        assertEquals(5, file.setting("store-dir").orElseThrow().line());
    }

    @Test
    void malformedLinesAreErrorsNamingFileAndLine() {
        assertEquals("agent.conf:2: expected 'key = value', found 'port 7070'",
                assertThrows(ConfigException.class, () -> ConfigFile.parse("agent.conf", List.of("# x", "port 7070"))).getMessage());
        assertEquals("agent.conf:1: 'Port' is not a key (lower-case letters, digits, '-', '.', '_'; the option name without dashes)",
                assertThrows(ConfigException.class, () -> ConfigFile.parse("agent.conf", List.of("Port = 1"))).getMessage());
        assertEquals("agent.conf:1: '--port' is not a key (lower-case letters, digits, '-', '.', '_'; the option name without dashes)",
                assertThrows(ConfigException.class, () -> ConfigFile.parse("agent.conf", List.of("--port = 1"))).getMessage());
        assertEquals("agent.conf:3: 'port' is already set on line 1",
                assertThrows(ConfigException.class, () -> ConfigFile.parse("agent.conf", List.of("port = 1", "", "port = 2"))).getMessage());
    }

    @Test
    void readsAFileAndNamesAMissingOne(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("coordinator.conf");
        Files.writeString(conf, "\uFEFFport = 7000\n");
        assertEquals(Optional.of("7000"), ConfigFile.read(conf).value("port"));
        assertEquals(dir.resolve("nope.conf") + ": no such file",
                assertThrows(ConfigException.class, () -> ConfigFile.read(dir.resolve("nope.conf"))).getMessage());
    }
}
