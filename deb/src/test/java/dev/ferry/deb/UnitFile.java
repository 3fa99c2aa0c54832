package dev.ferry.deb;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A systemd unit file read as sections of key=value assignments (repeated keys kept in order). */
record UnitFile(String name, Map<String, List<String[]>> sections) {

    static UnitFile read(Path file) throws IOException {
        Map<String, List<String[]>> sections = new LinkedHashMap<>();
        List<String[]> current = null;
        for (String raw : Files.readAllLines(file)) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[")) {
                current = sections.computeIfAbsent(line.substring(1, line.indexOf(']')), s -> new ArrayList<>());
                continue;
            }
            int equals = line.indexOf('=');
            if (current == null || equals < 0) {
                throw new AssertionError(file + ": not an assignment in a section: " + raw);
            }
            current.add(new String[] {line.substring(0, equals).strip(), line.substring(equals + 1).strip()});
        }
        return new UnitFile(file.getFileName().toString(), sections);
    }

    /** Every value assigned to {@code key} in {@code section}, in order. */
    List<String> values(String section, String key) {
        return sections.getOrDefault(section, List.of()).stream().filter(kv -> kv[0].equals(key)).map(kv -> kv[1]).toList();
    }

    /** The last value (what systemd uses for a single-valued key). */
    String value(String section, String key) {
        List<String> values = values(section, key);
        if (values.isEmpty()) {
            throw new AssertionError(name + ": no " + key + "= in [" + section + "]");
        }
        return values.get(values.size() - 1);
    }
}
