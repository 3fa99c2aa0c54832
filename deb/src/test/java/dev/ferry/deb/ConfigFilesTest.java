package dev.ferry.deb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.service.config.ConfigFile;
import dev.ferry.service.config.ConfigFileDefaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * deploy/config/*.conf: every key is documented as a commented-out `# key = default` line, the file
 * with all of them uncommented is valid, and (once the daemon exists) every key is one of its options.
 */
class ConfigFilesTest {

    private static final Pattern DOCUMENTED = Pattern.compile("^# ([a-z0-9][a-z0-9._-]*) =(.*)$");

    private static List<String> uncommented(Path file) throws Exception {
        return Files.readAllLines(file).stream().map(l -> {
            Matcher m = DOCUMENTED.matcher(l);
            return m.matches() ? m.group(1) + " =" + m.group(2) : l;
        }).toList();
    }

    @ParameterizedTest
    @CsvSource({"agent.conf, dev.ferry.agent.AgentMain", "coordinator.conf, dev.ferry.coordinator.CoordinatorMain"})
    void everyDocumentedKeyParsesAndIsAnOptionOfTheDaemon(String name, String daemon) throws Exception {
        Path file = Commands.repoRoot().resolve("deploy/config").resolve(name);
        ConfigFile shipped = ConfigFile.parse(name, Files.readAllLines(file));
        assertEquals(Set.of(), shipped.keys(), name + " ships every key commented out (built-in defaults apply)");
        ConfigFile everything = ConfigFile.parse(name, uncommented(file));
        assertFalse(everything.keys().isEmpty(), name + " documents its keys as '# key = default'");
        assertTrue(everything.keys().containsAll(Set.of("listen", "zookeeper", "data-dir")), everything.keys().toString());

        Class<?> main;
        try {
            main = Class.forName(daemon);
        } catch (ClassNotFoundException notYet) {
            Assumptions.abort(daemon + " is not in this build yet: its option names cannot be checked");
            return;
        }
        CommandSpec spec = CommandSpec.forAnnotatedObject(main.getDeclaredConstructor().newInstance());
        Set<String> options = spec.options().stream().map(ConfigFileDefaults::key).collect(Collectors.toSet());
        for (String key : everything.keys()) {
            assertTrue(options.contains(key), name + ": '" + key + "' is not an option of " + daemon + " " + options);
        }
        String wiring = " (wire it: @Command(defaultValueProvider = " + name.replace(".conf", "").replace("agent", "Agent").replace("coordinator", "Coordinator")
                + "ConfigDefaults.class) and @Option(names = \"--config\") Path config; see deploy/systemd/README.md)";
        assertTrue(options.contains("config"), daemon + " has no --config, which the units pass" + wiring);
        assertTrue(spec.defaultValueProvider() instanceof ConfigFileDefaults, daemon + " does not read its configuration file" + wiring);
    }
}
