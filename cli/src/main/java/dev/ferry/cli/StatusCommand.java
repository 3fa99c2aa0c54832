package dev.ferry.cli;

import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.render.JsonView;
import dev.ferry.cli.render.OutputFormat;
import dev.ferry.proto.MigrationInfo;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code migrate status [ID]}: one migration in detail, or every active one. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Shows one migration in detail (phase, round, where the process runs, limits, outcome), "
                + "or without an id every active migration.")
final class StatusCommand extends CoordinatorCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "<id>", description = "Migration id. Default: all active migrations.")
    String id;

    @Override
    int run(CoordinatorClient client) {
        PrintWriter out = spec.commandLine().getOut();
        boolean json = root.output() == OutputFormat.json;
        if (id != null) {
            MigrationInfo info = client.get(id);
            if (json) {
                out.println(JsonView.json(info));
            } else {
                MigrationTables.detail(info).forEach(out::println);
            }
            return ExitCode.DONE;
        }
        List<MigrationInfo> active = client.list(false, 50);
        if (json) {
            active.forEach(m -> out.println(JsonView.json(m)));
        } else if (active.isEmpty()) {
            out.println("no active migrations (recent ones: migrate list)");
        } else {
            MigrationTables.list(active).forEach(out::println);
        }
        return ExitCode.DONE;
    }
}
