package dev.ferry.cli;

import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.render.JsonView;
import dev.ferry.cli.render.OutputFormat;
import dev.ferry.cli.render.TextTable;
import dev.ferry.cli.units.ByteSize;
import dev.ferry.proto.AgentCapabilities;
import dev.ferry.proto.AgentStatus;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code migrate agents}: registered hosts, what they can do, and whether they answer. */
@Command(name = "agents", mixinStandardHelpOptions = true,
        description = "Lists registered agents with their health (answered just now), soft-dirty tracking (needed for a"
                + " real switch-over; a dry run works without it), CRIU version, kernel, load and free disk.")
final class AgentsCommand extends CoordinatorCommand {
    @Override
    int run(CoordinatorClient client) {
        PrintWriter out = spec.commandLine().getOut();
        List<AgentStatus> agents = client.agents();
        if (root.output() == OutputFormat.json) {
            agents.forEach(a -> out.println(JsonView.json(a)));
            return ExitCode.DONE;
        }
        if (agents.isEmpty()) {
            out.println("no agents registered");
            return ExitCode.DONE;
        }
        TextTable t = new TextTable("HOST", "ADDRESS", "HEALTH", "SOFT-DIRTY", "CRIU", "KERNEL", "ACTIVE", "FREE DISK", "VERSION");
        for (AgentStatus a : agents) {
            AgentCapabilities c = a.getCapabilities();
            t.row(c.getHost(), c.getAddress(),
                    a.getHealthy() ? "ok" : "DOWN" + (a.getHealthDetail().isEmpty() ? "" : " (" + a.getHealthDetail() + ")"),
                    c.getSoftDirty() ? "yes" : "no",
                    c.getCriuVersion().isEmpty() ? "missing" : c.getCriuVersion() + (c.getCriuUsable() ? "" : " (unusable)"),
                    c.getKernel(), c.getActiveMigrations(), ByteSize.format(c.getFreeDiskBytes()),
                    c.getVersion().isEmpty() ? "-" : c.getVersion());
        }
        t.lines().forEach(out::println);
        return ExitCode.DONE;
    }
}
