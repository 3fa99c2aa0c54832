package dev.ferry.cli.attach;

import dev.ferry.cli.ExitCode;
import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.render.ConsoleLines;
import dev.ferry.cli.render.EventView;
import dev.ferry.cli.render.JsonView;
import dev.ferry.cli.render.OutputFormat;
import dev.ferry.cli.render.TableView;
import dev.ferry.proto.MigrationInfo;
import java.io.InputStream;
import java.io.PrintWriter;
import java.time.Duration;

/** Follows a migration in the foreground (attached start, {@code watch}) and maps its end to an exit code. */
public final class Attached {
    private Attached() {
    }

    /**
     * @param terminals what {@code out} and {@code stdin} are: the status line is drawn only on a
     *     live terminal, so a pipe, a file or a captured writer gets plain lines without {@code CR}/ESC
     */
    public static int follow(CoordinatorClient client, String migrationId, OutputFormat format,
            PrintWriter out, PrintWriter err, InputStream stdin, Terminals terminals) {
        boolean live = format == OutputFormat.table && terminals.stdoutLive();
        ConsoleLines lines = new ConsoleLines(out, live);
        EventView view = format == OutputFormat.json
                ? new JsonView(out, err)
                : new TableView(lines, System::currentTimeMillis);
        Follower follower = new Follower(client, migrationId, view, Duration.ofMillis(500));
        try (view; CtrlC ctrlC = new CtrlC(follower, client, lines, err, stdin, terminals.stdinTerminal()).install()) {
            Outcome outcome = follower.run();
            return exitCode(outcome);
        } finally {
            lines.close();
        }
    }

    /** 0 done or detached; 4 failed; 5 cancelled; 7 dry run that would not converge. */
    public static int exitCode(Outcome outcome) {
        if (outcome instanceof Outcome.Finished finished) {
            MigrationInfo info = finished.info();
            return switch (info.getPhase()) {
                case DONE -> info.getDryRun() && !info.getSummary().getWouldConverge()
                        ? ExitCode.WOULD_NOT_CONVERGE : ExitCode.DONE;
                case FAILED -> ExitCode.FAILED_ROLLED_BACK;
                case CANCELLED -> ExitCode.CANCELLED;
                default -> ExitCode.INTERNAL;
            };
        }
        return ExitCode.DONE;
    }
}
