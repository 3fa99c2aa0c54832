package dev.ferry.cli;

import dev.ferry.cli.connect.CoordinatorClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * A subcommand that asks the coordinator something: it connects to the coordinator the root
 * command names, runs, and closes the connection. A refusal or an unreachable coordinator surfaces
 * as the {@link CliFailure} the client throws, which the root command turns into the message and
 * exit code.
 */
abstract class CoordinatorCommand implements Callable<Integer> {
    @ParentCommand
    MigrateCommand root;

    @Spec
    CommandSpec spec;

    @Override
    public final Integer call() {
        try (CoordinatorClient client = root.client()) {
            return run(client);
        }
    }

    /** What the command does with the open connection; returns the exit code ({@link ExitCode}). */
    abstract int run(CoordinatorClient client);
}
