package dev.ferry.cli;

import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.render.JsonView;
import dev.ferry.cli.render.OutputFormat;
import dev.ferry.proto.MigrationInfo;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code migrate cancel ID}: roll back a migration that has not committed. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Cancels a migration before its commit: it rolls back and the process runs on (or resumes on) the"
                + " source. After the commit the coordinator refuses (exit 3): the process already runs on the destination.")
final class CancelCommand implements Callable<Integer> {
    @ParentCommand
    MigrateCommand root;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<id>", description = "Migration id (see: migrate list).")
    String id;

    @Override
    public Integer call() {
        try (CoordinatorClient client = root.client()) {
            MigrationInfo info = client.cancel(id);
            PrintWriter out = spec.commandLine().getOut();
            if (root.output() == OutputFormat.json) {
                out.println(JsonView.json(info));
            } else {
                String owner = info.getOwnerHost().isEmpty() ? info.getSourceHost() : info.getOwnerHost();
                out.printf("cancel requested: migration %s is %s; pid %d runs on %s%n", info.getId(),
                        info.getPhase().name().toLowerCase(java.util.Locale.ROOT), info.getPid(), owner);
            }
            return ExitCode.DONE;
        }
    }
}
