package dev.ferry.service.config;

import java.nio.file.Path;

/** Defaults for {@code ferry-coordinator} from {@code --config}, else {@value #DEFAULT_FILE}. */
public final class CoordinatorConfigDefaults extends ConfigFileDefaults {

    public static final String DEFAULT_FILE = "/etc/ferry/coordinator.conf";

    public CoordinatorConfigDefaults() {
        super(Path.of(DEFAULT_FILE), "--config");
    }
}
