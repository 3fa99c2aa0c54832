package dev.ferry.service.config;

import java.nio.file.Path;

/** Defaults for {@code ferry-agent} from {@code --config}, else {@value #DEFAULT_FILE}. */
public final class AgentConfigDefaults extends ConfigFileDefaults {

    public static final String DEFAULT_FILE = "/etc/ferry/agent.conf";

    public AgentConfigDefaults() {
        super(Path.of(DEFAULT_FILE), "--config");
    }
}
