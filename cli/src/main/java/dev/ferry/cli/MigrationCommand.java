package dev.ferry.cli;

import dev.ferry.cli.connect.CoordinatorClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * A subcommand about one migration named by its id ({@code cancel}, {@code watch}, {@code report}):
 * it connects to the coordinator the root command names, runs, and closes the connection. A
 * refusal or an unreachable coordinator surfaces as the {@link CliFailure} the client throws, which
 * the root command turns into the message and exit code.
 */
abstract class MigrationCommand implements Callable<Integer> {
    @ParentCommand
    MigrateCommand root;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<id>", description = "Migration id (see: migrate list).")
    String id;

    @Override
    public final Integer call() {
        try (CoordinatorClient client = root.client()) {
            return run(client);
        }
    }

    /** What the command does with the open connection; returns the exit code ({@link ExitCode}). */
    abstract int run(CoordinatorClient client);
}
