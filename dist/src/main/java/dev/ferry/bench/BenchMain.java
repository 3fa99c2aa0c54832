package dev.ferry.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/ferry-bench <name>}: Ferry's benchmarks. Each prints a human table and ends with ONE
 * line of {@code key=value} figures, so scripts read the last line.
 *
 * <p>Adding a benchmark is one line in {@link #commandLine()}: either a picocli {@code @Command}
 * class in dev.ferry.bench ({@code cl.addSubcommand(new FooBench());}) or a class with a plain
 * {@code static void main(String[])} ({@code cl.addSubcommand("foo", StaticMainBench.of("what it
 * measures", FooBench::main));}).
 */
@Command(name = "ferry-bench", mixinStandardHelpOptions = true, version = "ferry-bench 0.1.0",
        description = "Runs one of Ferry's benchmarks: a human table, then one last line of key=value figures.",
        subcommands = CommandLine.HelpCommand.class)
public final class BenchMain implements Callable<Integer> {

    /** Every benchmark, one line each. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new BenchMain());
        cl.addSubcommand(new KernelProbeBench());
        cl.addSubcommand("policy", StaticMainBench.of(
                "Convergence policy vs the P.Haul, LXD and QEMU stop rules on simulated workloads.", PolicyBench::main));
        cl.addSubcommand(new EngineBench());
        cl.addSubcommand("transfer", StaticMainBench.of(
                "Pre-copy throughput over gRPC into the page store vs a C process_vm_readv->TCP pipeline; peak heap. [--size 1GiB]",
                TransferBench::main));
        cl.addSubcommand("downtime", StaticMainBench.of(
                "Switch-over downtime, pre-copy vs stop-and-copy (root, soft-dirty, CRIU: run in the lab VM).", DowntimeBench::main));
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    @Override
    public Integer call() {
        CommandLine cl = commandLine();
        cl.usage(System.out);
        return 2;
    }
}
