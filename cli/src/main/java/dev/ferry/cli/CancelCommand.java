package dev.ferry.cli;

import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.render.JsonView;
import dev.ferry.cli.render.OutputFormat;
import dev.ferry.proto.MigrationInfo;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code migrate cancel ID}: roll back a migration that has not committed. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Cancels a migration before its commit: it rolls back and the process runs on (or resumes on) the"
                + " source. After the commit the coordinator refuses (exit 3): the process already runs on the destination.")
final class CancelCommand extends MigrationCommand {
    @Override
    int run(CoordinatorClient client) {
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
