package dev.ferry.service.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Picocli defaults read from a {@link ConfigFile}: flags override the file, the file overrides
 * the {@code defaultValue} of the {@code @Option}. A daemon adds two things to its command:
 * <pre>
 * &#64;Command(name = "ferry-agent", defaultValueProvider = AgentConfigDefaults.class, ...)
 * class AgentMain {
 *     &#64;Option(names = "--config", description = "configuration file (default: /etc/ferry/agent.conf)")
 *     Path config; // no defaultValue: null means "the default file"
 * </pre>
 * Picocli asks for defaults after it has read the command line, so {@code --config} given there
 * is known when the file is needed. Without {@code --config} the default file is read if it
 * exists; a {@code --config} file that does not exist is an error. A key that is not a long
 * option of the command is an error naming the file and line (a typo must not be silently
 * ignored). Errors surface as picocli {@link CommandLine.ParameterException}s: usage message,
 * exit status 2.
 *
 * <p>Thread confinement: picocli calls a provider from the parsing thread only.
 */
public class ConfigFileDefaults implements IDefaultValueProvider {

    private static final Logger log = LoggerFactory.getLogger(ConfigFileDefaults.class);

    private final Path defaultFile;
    private final String configOption;
    /** The file read for the current parse; reloaded if the --config value changes. */
    private Path loadedPath;
    private Optional<ConfigFile> loaded = Optional.empty();

    /**
     * @param defaultFile  read when the command line has no {@code configOption}
     * @param configOption the option naming the file, e.g. {@code --config}
     */
    public ConfigFileDefaults(Path defaultFile, String configOption) {
        this.defaultFile = Objects.requireNonNull(defaultFile, "defaultFile");
        this.configOption = Objects.requireNonNull(configOption, "configOption");
    }

    @Override
    public String defaultValue(ArgSpec argument) throws Exception {
        if (!(argument instanceof OptionSpec option)) {
            return null;
        }
        CommandSpec command = option.command();
        if (Arrays.asList(option.names()).contains(configOption)) {
            return null;
        }
        Optional<ConfigFile> file = file(command);
        return file.flatMap(f -> f.value(key(option))).orElse(null);
    }

    /** The configuration key of an option: its longest name without leading dashes. */
    public static String key(OptionSpec option) {
        return option.longestName().replaceFirst("^-+", "");
    }

    private Optional<ConfigFile> file(CommandSpec command) throws CommandLine.ParameterException {
        OptionSpec config = command.findOption(configOption);
        Object given = config == null ? null : config.getValue();
        Path path = given == null ? defaultFile : Path.of(given.toString());
        if (path.equals(loadedPath)) {
            return loaded;
        }
        loadedPath = path;
        loaded = Optional.empty();
        if (given == null && !Files.exists(path)) {
            log.debug("No configuration file {}: built-in defaults apply", path);
            return loaded;
        }
        try {
            ConfigFile file = ConfigFile.read(path);
            check(file, command);
            log.debug("Defaults from {}: {}", path, file.keys());
            loaded = Optional.of(file);
            return loaded;
        } catch (ConfigException e) {
            throw new CommandLine.ParameterException(command.commandLine(), e.getMessage(), e);
        }
    }

    private void check(ConfigFile file, CommandSpec command) throws ConfigException {
        Set<String> known = new TreeSet<>();
        for (OptionSpec option : command.options()) {
            if (!option.usageHelp() && !option.versionHelp() && !Arrays.asList(option.names()).contains(configOption)) {
                known.add(key(option));
            }
        }
        for (String key : file.keys()) {
            if (!known.contains(key)) {
                int line = file.setting(key).orElseThrow().line();
                throw new ConfigException(file.name() + ":" + line + ": unknown key '" + key + "' for "
                        + command.qualifiedName() + " (known keys: " + String.join(", ", known) + ")");
            }
        }
    }
}
