package dev.ferry.cli.attach;

import dev.ferry.proto.MigrationInfo;

/** How following a migration ended. */
public sealed interface Outcome {
    /** The migration reached DONE, FAILED or CANCELLED. */
    record Finished(MigrationInfo info) implements Outcome {
    }

    /** The operator detached; the migration goes on. */
    record Detached() implements Outcome {
    }
}
