package dev.ferry.service.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Ferry configuration file ({@code /etc/ferry/agent.conf}, {@code /etc/ferry/coordinator.conf}).
 *
 * <p>Format, one setting per line:
 * <pre>
 * # a comment: a line whose first non-blank character is '#' (or ';')
 * key = value
 * </pre>
 * <ul>
 *   <li>A key is a daemon's long option name without the leading dashes ({@code --zk-connect}
 *       becomes {@code zk-connect}): lower-case letters, digits, '-', '.' and '_'.</li>
 *   <li>The value is everything after the first '=', with surrounding blanks removed; it is taken
 *       literally: no quoting, no escapes, no inline comments (a '#' after the '=' is part of the
 *       value). An empty value means "not set": the built-in default applies.</li>
 *   <li>Blank lines are ignored; a key may appear only once; anything else is an error naming the
 *       file and line. The file is UTF-8.</li>
 * </ul>
 * A command-line flag always wins over the file, and the file over the built-in default.
 */
public final class ConfigFile {

    private static final Pattern KEY = Pattern.compile("[a-z0-9][a-z0-9._-]*");

    private final String name;
    private final Map<String, Setting> settings;

    /** One {@code key = value} line. */
    public record Setting(String key, String value, int line) {
    }

    private ConfigFile(String name, Map<String, Setting> settings) {
        this.name = name;
        this.settings = Collections.unmodifiableMap(settings);
    }

    /** Reads {@code file}; a missing file is a {@link ConfigException} too (the caller decides if that is fine). */
    public static ConfigFile read(Path file) throws ConfigException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(file.toString(), lines);
    }

    /** Parses lines; {@code name} is what error messages call the file. */
    public static ConfigFile parse(String name, List<String> lines) throws ConfigException {
        Map<String, Setting> settings = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int lineNumber = i + 1;
            String line = lines.get(i).strip();
            if (i == 0 && line.startsWith("\uFEFF")) {
                line = line.substring(1).strip();
            }
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            int equals = line.indexOf('=');
            if (equals < 0) {
                throw new ConfigException(name + ":" + lineNumber + ": expected 'key = value', found '" + line + "'");
            }
            String key = line.substring(0, equals).strip();
            String value = line.substring(equals + 1).strip();
            if (!KEY.matcher(key).matches()) {
                throw new ConfigException(name + ":" + lineNumber + ": '" + key
                        + "' is not a key (lower-case letters, digits, '-', '.', '_'; the option name without dashes)");
            }
            Setting earlier = settings.get(key);
            if (earlier != null) {
                throw new ConfigException(name + ":" + lineNumber + ": '" + key + "' is already set on line " + earlier.line());
            }
            settings.put(key, new Setting(key, value, lineNumber));
        }
        return new ConfigFile(name, settings);
    }

    /** What error messages call this file (its path). */
    public String name() {
        return name;
    }

    /** The value of {@code key}; empty if absent or set to the empty string. */
    public Optional<String> value(String key) {
        Setting setting = settings.get(key);
        return setting == null || setting.value().isEmpty() ? Optional.empty() : Optional.of(setting.value());
    }

    public Optional<Setting> setting(String key) {
        return Optional.ofNullable(settings.get(key));
    }

    /** Every key in the file, in file order. */
    public Set<String> keys() {
        return settings.keySet();
    }
}
