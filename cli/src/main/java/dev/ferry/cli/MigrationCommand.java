package dev.ferry.cli;

import picocli.CommandLine.Parameters;

/** A {@link CoordinatorCommand} about one migration named by its id ({@code cancel}, {@code watch}, {@code report}). */
abstract class MigrationCommand extends CoordinatorCommand {
    @Parameters(index = "0", paramLabel = "<id>", description = "Migration id (see: migrate list).")
    String id;
}
