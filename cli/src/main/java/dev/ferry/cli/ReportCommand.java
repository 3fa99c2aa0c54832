package dev.ferry.cli;

import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.connect.EventStream;
import dev.ferry.cli.report.ConvergenceChart;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.RoundEvent;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code migrate report ID --svg FILE}: the convergence chart of a migration. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Writes an SVG chart of a migration's convergence: dirty pages (bars) and expected downtime (line)"
                + " per round, the downtime limit as a dashed line. Opens in any browser. For a running migration:"
                + " the rounds so far.")
final class ReportCommand extends MigrationCommand {
    @Option(names = "--svg", paramLabel = "<file>", required = true, description = "SVG file to write (replaced if it exists).")
    Path svg;

    @Override
    int run(CoordinatorClient client) {
        MigrationInfo info = client.get(id);
        List<RoundEvent> rounds = rounds(client, info);
        String title = String.format("migration %s: pid %d, %s -> %s%s", info.getId(), info.getPid(),
                info.getSourceHost(), info.getDestinationHost(), info.getDryRun() ? " (dry run)" : "");
        String chart = ConvergenceChart.svg(title, rounds, info.getLimits().getDowntimeLimitMillis());
        try {
            Files.writeString(svg, chart, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliFailure(ExitCode.INTERNAL, "cannot write " + svg + ": " + e.getMessage(), e);
        }
        spec.commandLine().getOut().printf("wrote %s (%d rounds)%n", svg, rounds.size());
        return ExitCode.DONE;
    }

    /**
     * The recorded rounds: the replay of a finished migration ends by itself; for a running one,
     * stop once the rounds it had when asked are in (the rest would only come live).
     */
    private static List<RoundEvent> rounds(CoordinatorClient client, MigrationInfo info) {
        boolean finished = MigrationTables.terminal(info.getPhase());
        List<RoundEvent> rounds = new ArrayList<>();
        if (!finished && info.getRound() == 0) {
            return rounds;
        }
        try (EventStream events = client.watch(info.getId(), true)) {
            while (events.hasNext()) {
                MigrationEvent e = events.next();
                if (e.hasRound()) {
                    rounds.add(e.getRound());
                    if (!finished && rounds.size() >= info.getRound()) {
                        break;
                    }
                }
                if (e.hasFinished()) {
                    break;
                }
            }
        } catch (StatusRuntimeException e) {
            throw client.failure("read the events of migration " + info.getId(), e);
        }
        return rounds;
    }
}
