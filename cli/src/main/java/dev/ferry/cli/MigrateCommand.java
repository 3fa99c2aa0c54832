package dev.ferry.cli;

import dev.ferry.cli.attach.Attached;
import dev.ferry.cli.attach.Terminals;
import dev.ferry.cli.connect.ClientSecurity;
import dev.ferry.cli.connect.CoordinatorAddress;
import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.connect.Deadlines;
import dev.ferry.cli.render.JsonView;
import dev.ferry.cli.render.OutputFormat;
import dev.ferry.cli.units.ByteRate;
import dev.ferry.cli.units.ByteRateConverter;
import dev.ferry.cli.units.DurationConverter;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationLimits;
import dev.ferry.proto.StartMigrationRequest;
import dev.ferry.service.tls.TlsOptions;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code migrate <pid> --to <host>}: starts a live migration and follows it round by round. */
@Command(name = "migrate", mixinStandardHelpOptions = true, versionProvider = Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "Live-migrates a Linux process (with its children) to another host: copies its memory in rounds"
                    + " while it runs, then freezes it briefly, copies the rest and restores it there. Stays attached"
                    + " and shows one row per round, the switch-over phases and a summary. Ctrl-C asks whether to"
                    + " cancel the migration or detach from it.",
            ""},
        subcommands = {StatusCommand.class, ListCommand.class, WatchCommand.class, CancelCommand.class,
            AgentsCommand.class, ReportCommand.class},
        footerHeading = "%nUnits:%n",
        footer = {
            "  durations  500us, 300ms, 2s, 1.5s, 2m, 1h",
            "  sizes      4096, 64KiB, 500MiB, 2GiB (IEC, x1024) or 500MB, 2GB (SI, x1000)",
            "  rates      a size per second, e.g. 500MiB/s, 1GB/s; 0 means unlimited",
            "  pages      4 KiB each; dirty rate in pages per second (p/s)",
            "%nEnvironment:",
            "  FERRY_COORDINATOR     default coordinator host:port (else 127.0.0.1:7000)",
            "  FERRY_CERTS           directory with ca.crt and operator.crt/.key (or viewer.crt/.key);"
                    + " else ~/.config/ferry/certs, else /etc/ferry/certs (see --certs)",
            "  FERRY_DEADLINE_SCALE  multiplies every call deadline, e.g. 10 on slow hosts (default 1)"})
public final class MigrateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "<pid>",
            description = "Process to migrate, on the source host; its descendants move with it.")
    Integer pid;

    @Option(names = "--to", paramLabel = "<host>", description = "Destination host, as registered by its agent (see: migrate agents).")
    String to;

    @Option(names = "--from", paramLabel = "<host>",
            description = "Source host. Default: the host whose agent has the pid (the coordinator finds it).")
    String from;

    @Option(names = "--downtime-limit", paramLabel = "<duration>", converter = DurationConverter.class,
            description = "Longest acceptable freeze at the switch-over, e.g. 300ms, 1s. Pre-copy goes on until the"
                    + " expected downtime fits. Default: the coordinator's, 300ms.")
    Duration downtimeLimit;

    @Option(names = "--max-rounds", paramLabel = "<n>",
            description = "Most pre-copy rounds before the stall action applies. Default: 30.")
    Integer maxRounds;

    @Option(names = "--bandwidth", paramLabel = "<rate>", converter = ByteRateConverter.class,
            description = "Cap on the page stream, e.g. 500MiB/s, 1GB/s. Default: 0 = unlimited.")
    ByteRate bandwidth;

    @Option(names = "--on-stall", paramLabel = "<action>",
            description = "When the dirty set stops shrinking: ${COMPLETION-CANDIDATES}. throttle slows the process"
                    + " (20%%, +10%% a step, at most 99%%); freeze accepts a longer downtime; abort leaves the"
                    + " process on the source. Default: throttle.")
    StallChoice onStall;

    @Option(names = "--dry-run",
            description = "Pre-copy rounds only: predicts the downtime and whether it would converge; never freezes"
                    + " for a switch-over and leaves the process untouched. Works without soft-dirty or CRIU.")
    boolean dryRun;

    @Option(names = "--detach", description = "Start the migration, print its id and return (follow with: migrate watch ID).")
    boolean detach;

    @Option(names = "--coordinator", paramLabel = "<host:port>", scope = ScopeType.INHERIT,
            converter = CoordinatorAddress.Converter.class,
            defaultValue = "${env:FERRY_COORDINATOR:-" + CoordinatorAddress.FALLBACK + "}",
            description = "Coordinator to talk to. Default: env FERRY_COORDINATOR, else " + CoordinatorAddress.FALLBACK + ".")
    CoordinatorAddress coordinator;

    @Option(names = "--output", paramLabel = "<format>", scope = ScopeType.INHERIT, defaultValue = "table",
            description = "${COMPLETION-CANDIDATES}: table for people, json for scripts (one JSON object per line:"
                    + " per event, or per item). Default: ${DEFAULT-VALUE}.")
    OutputFormat output;

    /** Mutual TLS with an operator/viewer certificate (see ClientSecurity for where it is looked for), or --insecure. */
    @CommandLine.Mixin
    TlsOptions tls = new TlsOptions();

    @Option(names = "--no-progress", scope = ScopeType.INHERIT,
            description = "No live status line, also on a terminal: one plain line per round and phase, as when"
                    + " stdout is a pipe or a file (then it is off anyway, as with TERM=dumb).")
    boolean noProgress;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Show stack traces with errors.")
    boolean verbose;

    private final InputStream stdin;
    private final Terminals terminals;

    MigrateCommand(InputStream stdin, Terminals terminals) {
        this.stdin = stdin;
        this.terminals = terminals;
    }

    public static void main(String[] args) {
        CliRuntime.prepare(); // first: before any library logs
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        System.exit(run(args, out, err, System.in, Terminals.detect()));
    }

    /**
     * Runs the command line with plain output (whatever the process's own stdout is: {@code out}
     * is not it); returns the exit code (see {@link ExitCode}).
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, InputStream stdin) {
        return run(args, out, err, stdin, Terminals.NONE);
    }

    /**
     * Runs the command line; returns the exit code (see {@link ExitCode}).
     *
     * @param terminals what {@code out} and {@code stdin} are (only main can tell: {@link Terminals#detect()})
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, InputStream stdin, Terminals terminals) {
        MigrateCommand root = new MigrateCommand(stdin, terminals);
        CommandLine cl = new CommandLine(root);
        cl.addSubcommand("completion", new AutoComplete.GenerateCompletion());
        cl.getSubcommands().get("completion").getCommandSpec().usageMessage().hidden(false)
                .description("Prints a bash/zsh completion script for migrate: source <(migrate completion)");
        cl.setOut(out).setErr(err).setCaseInsensitiveEnumValuesAllowed(true);
        Map<String, String> codes = new LinkedHashMap<>();
        for (String entry : ExitCode.HELP) {
            int colon = entry.indexOf(':');
            codes.put(entry.substring(0, colon), entry.substring(colon + 1));
        }
        applyExitCodeList(cl, codes);
        cl.setParameterExceptionHandler((e, a) -> {
            String command = e.getCommandLine().getCommandSpec().qualifiedName();
            err.println("migrate: " + e.getMessage() + " (see: " + command + " --help)");
            err.flush();
            return ExitCode.USAGE;
        });
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            if (e instanceof CliFailure f) {
                err.println("migrate: " + f.getMessage());
            } else {
                err.println("migrate: internal error: " + e + " (run with --verbose for details)");
            }
            if (root.verbose) {
                e.printStackTrace(err);
            }
            err.flush();
            return e instanceof CliFailure f ? f.exitCode() : ExitCode.INTERNAL;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static void applyExitCodeList(CommandLine cl, Map<String, String> codes) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(codes);
        for (CommandLine sub : cl.getSubcommands().values()) {
            applyExitCodeList(sub, codes);
        }
    }

    @Override
    public Integer call() {
        if (pid == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "missing <pid>: use migrate <pid> --to <host>, or a subcommand (status, list, watch, cancel, agents, report)");
        }
        if (pid <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "invalid pid " + pid + ": must be a positive process id");
        }
        if (to == null || to.isBlank()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing --to <host>: the destination host");
        }
        StartMigrationRequest request = request();
        PrintWriter out = spec.commandLine().getOut();
        if (output == OutputFormat.table) {
            // Printed before any gRPC class loads: the operator sees at once that something happens.
            out.printf("starting migration of pid %d to %s%s via coordinator %s%n", pid, to,
                    dryRun ? " (dry run)" : "", coordinator);
            out.flush();
        }
        try (CoordinatorClient client = client()) {
            MigrationInfo info = client.start(request);
            if (detach) {
                if (output == OutputFormat.json) {
                    out.println(JsonView.json(info));
                } else {
                    out.printf("started migration %s (pid %d, %s -> %s); follow: migrate watch %s; cancel: migrate cancel %s%n",
                            info.getId(), info.getPid(), info.getSourceHost(), info.getDestinationHost(),
                            info.getId(), info.getId());
                }
                return ExitCode.DONE;
            }
            return Attached.follow(client, info.getId(), output, out, spec.commandLine().getErr(), stdin, terminals());
        }
    }

    StartMigrationRequest request() {
        MigrationLimits.Builder limits = MigrationLimits.newBuilder();
        if (downtimeLimit != null) {
            if (downtimeLimit.toMillis() < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--downtime-limit must be at least 1ms, got " + downtimeLimit.toNanos() / 1000 + "us");
            }
            limits.setDowntimeLimitMillis(downtimeLimit.toMillis());
        }
        if (maxRounds != null) {
            if (maxRounds < 1 || maxRounds > 10_000) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--max-rounds must be 1..10000, got " + maxRounds);
            }
            limits.setMaxRounds(maxRounds);
        }
        if (bandwidth != null) {
            limits.setBandwidthLimitBytesPerSec(bandwidth.bytesPerSecond());
        }
        if (onStall != null) {
            limits.setOnStall(onStall.action());
        }
        return StartMigrationRequest.newBuilder()
                .setPid(pid)
                .setSourceHost(from == null ? "" : from)
                .setDestinationHost(to)
                .setLimits(limits)
                .setDryRun(dryRun)
                .build();
    }

    /** A client of the chosen coordinator; the caller closes it. */
    CoordinatorClient client() {
        Deadlines deadlines;
        try {
            deadlines = Deadlines.fromEnvironment(System.getenv(Deadlines.ENV));
        } catch (IllegalArgumentException e) {
            throw new CliFailure(ExitCode.USAGE, e.getMessage());
        }
        return new CoordinatorClient(coordinator, deadlines,
                ClientSecurity.credentials(tls, System.getenv(), System.getProperty("user.home")));
    }

    OutputFormat output() {
        return output;
    }

    InputStream stdin() {
        return stdin;
    }

    /** What stdout/stdin are, with the status line off under {@code --no-progress}. */
    Terminals terminals() {
        return noProgress ? terminals.withoutProgress() : terminals;
    }
}
