package dev.ferry.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * Adapts a benchmark written as a plain {@code static void main(String[])} to a ferry-bench
 * subcommand: every argument after the name is handed to that main unchanged.
 */
@Command(mixinStandardHelpOptions = false)
final class StaticMainBench implements Callable<Integer> {
    /** A benchmark's {@code static void main(String[]) throws Exception}. */
    @FunctionalInterface
    interface Main {
        void run(String[] args) throws Exception;
    }

    private final Main main;

    @Unmatched
    private List<String> args = new ArrayList<>();

    @Spec
    private CommandSpec spec;

    private StaticMainBench(Main main) {
        this.main = main;
    }

    /** A subcommand object whose usage shows {@code description}. */
    static CommandLine of(String description, Main main) {
        CommandLine cl = new CommandLine(new StaticMainBench(main));
        cl.getCommandSpec().usageMessage().description(description);
        return cl;
    }

    @Override
    public Integer call() throws Exception {
        main.run(args.toArray(String[]::new));
        return 0;
    }
}
