package dev.ferry.cli;

import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.render.JsonView;
import dev.ferry.cli.render.OutputFormat;
import dev.ferry.proto.MigrationInfo;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code migrate list}: active and recent migrations, newest first. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "Lists active and recent migrations, newest first. DOWNTIME is measured; ~ marks a dry run's prediction.")
final class ListCommand implements Callable<Integer> {
    @ParentCommand
    MigrateCommand root;

    @Spec
    CommandSpec spec;

    @Option(names = "--active", description = "Only migrations still in progress.")
    boolean activeOnly;

    @Option(names = "--limit", paramLabel = "<n>", defaultValue = "50", description = "At most this many. Default: ${DEFAULT-VALUE}.")
    int limit;

    @Override
    public Integer call() {
        if (limit < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--limit must be at least 1, got " + limit);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (CoordinatorClient client = root.client()) {
            List<MigrationInfo> migrations = client.list(!activeOnly, limit);
            if (root.output() == OutputFormat.json) {
                migrations.forEach(m -> out.println(JsonView.json(m)));
            } else if (migrations.isEmpty()) {
                out.println(activeOnly ? "no active migrations" : "no migrations yet");
            } else {
                MigrationTables.list(migrations).forEach(out::println);
            }
            return ExitCode.DONE;
        }
    }
}
