package dev.ferry.cli.render;

/** {@code --output}: lower-case constants so that help and completion show what to type. */
public enum OutputFormat {
    table,
    json
}
