package dev.ferry.cli;

import dev.ferry.cli.attach.Attached;
import dev.ferry.cli.connect.CoordinatorClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code migrate watch ID}: attach to a migration, replaying its rounds so far. */
@Command(name = "watch", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Attaches to a migration: replays its rounds so far, then follows it live to its end. Exits like"
                + " the migration ended (0 done, 4 failed, 5 cancelled). Ctrl-C asks to cancel or detach.")
final class WatchCommand implements Callable<Integer> {
    @ParentCommand
    MigrateCommand root;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<id>", description = "Migration id (see: migrate list).")
    String id;

    @Override
    public Integer call() {
        try (CoordinatorClient client = root.client()) {
            client.get(id); // NOT_FOUND here is a clear "refused" before the stream starts
            return Attached.follow(client, id, root.output(), spec.commandLine().getOut(),
                    spec.commandLine().getErr(), root.stdin());
        }
    }
}
