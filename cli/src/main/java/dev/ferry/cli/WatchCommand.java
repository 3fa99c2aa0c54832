package dev.ferry.cli;

import dev.ferry.cli.attach.Attached;
import dev.ferry.cli.connect.CoordinatorClient;
import picocli.CommandLine.Command;

/** {@code migrate watch ID}: attach to a migration, replaying its rounds so far. */
@Command(name = "watch", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Attaches to a migration: replays its rounds so far, then follows it live to its end. Exits like"
                + " the migration ended (0 done, 4 failed, 5 cancelled). Ctrl-C asks to cancel or detach.")
final class WatchCommand extends MigrationCommand {
    @Override
    int run(CoordinatorClient client) {
        client.get(id); // NOT_FOUND here is a clear "refused" before the stream starts
        return Attached.follow(client, id, root.output(), spec.commandLine().getOut(),
                spec.commandLine().getErr(), root.stdin(), root.terminals());
    }
}
