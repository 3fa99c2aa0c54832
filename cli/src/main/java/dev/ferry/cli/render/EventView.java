package dev.ferry.cli.render;

import dev.ferry.proto.MigrationEvent;

/** Shows a migration's events to the operator, in sequence order. Called from one thread. */
public interface EventView extends AutoCloseable {
    void show(MigrationEvent event);

    /** The stream was interrupted: say so without breaking the layout. */
    void note(String message);

    @Override
    default void close() {
    }
}
