package dev.ferry.testkit;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * One line of the workload's output file: {@code START ...}, {@code OK counter=...},
 * {@code CORRUPT ...} or {@code STOP ...}, with its {@code key=value} fields.
 */
public record MemtouchLine(Kind kind, Map<String, String> fields, String raw) {
    public enum Kind { START, OK, CORRUPT, STOP, UNKNOWN }

    public MemtouchLine {
        fields = Map.copyOf(fields);
    }

    public static MemtouchLine parse(String raw) {
        String[] parts = raw.trim().split("\\s+");
        Kind kind;
        try {
            kind = parts.length == 0 ? Kind.UNKNOWN : Kind.valueOf(parts[0]);
        } catch (IllegalArgumentException e) {
            kind = Kind.UNKNOWN;
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq > 0) {
                fields.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
            }
        }
        return new MemtouchLine(kind, fields, raw);
    }

    public boolean isOk() {
        return kind == Kind.OK;
    }

    public boolean isCorrupt() {
        return kind == Kind.CORRUPT;
    }

    /** The verification counter ({@code counter=}); it only grows, also across a migration. */
    public long counter() {
        return number("counter").orElse(-1);
    }

    /** Page writes done so far ({@code writes=}). */
    public long writes() {
        return number("writes").orElse(-1);
    }

    /** {@code getpid()} as the workload saw it when it wrote the line (1 in its own pid namespace). */
    public long pid() {
        return number("pid").orElse(-1);
    }

    public OptionalLong number(String key) {
        String v = fields.get(key);
        if (v == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(v));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    @Override
    public String toString() {
        return raw;
    }
}
