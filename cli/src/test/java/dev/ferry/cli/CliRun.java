package dev.ferry.cli;

import dev.ferry.cli.attach.Terminals;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of the CLI's entry point ({@link MigrateCommand#run}, what bin/migrate runs) in this JVM
 * with stdout and stderr captured and an empty stdin: the one capture every CLI test uses. A run
 * whose stdout is not a live terminal (every run but {@link #on} with a live one) fails on a CR or
 * escape character in either stream ({@link PlainOutput}): a pipe, a file or a CI log would keep
 * them as garbage.
 */
public class CliRun {
    private final int code;
    private final String out;
    private final String err;

    private CliRun(int code, String out, String err) {
        this.code = code;
        this.out = out;
        this.err = err;
    }

    /** The same run, for a subclass that adds its own views of the output. */
    protected CliRun(CliRun run) {
        this(run.code, run.out, run.err);
    }

    /** Runs {@code args} as a non-terminal caller (a pipe): plain lines only. */
    public static CliRun of(String... args) {
        return on(Terminals.NONE, args);
    }

    /** Runs {@code args} as if main had detected {@code terminals}. */
    public static CliRun on(Terminals terminals, String... args) {
        Running running = new Running();
        int code = MigrateCommand.run(args, running.outWriter, running.errWriter, new ByteArrayInputStream(new byte[0]), terminals);
        return running.finished(code, terminals);
    }

    /**
     * Starts {@code args} on another thread (a non-terminal caller), for a test that acts while
     * the CLI runs (restart the coordinator, cancel from a second CLI) and reads what it printed so far.
     */
    public static Running start(String... args) {
        Running running = new Running();
        running.code = CompletableFuture.supplyAsync(() -> MigrateCommand.run(args, running.outWriter, running.errWriter,
                new ByteArrayInputStream(new byte[0])));
        return running;
    }

    /** {@code args} followed by {@code more} (the coordinator, --insecure...). */
    public static String[] plus(String[] args, String... more) {
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    public int code() {
        return code;
    }

    public String out() {
        return out;
    }

    public String err() {
        return err;
    }

    public List<String> errLines() {
        return err.lines().toList();
    }

    /** The lines of stdout that {@code line} matches as a whole, matched. */
    public List<Matcher> outLines(Pattern line) {
        return out.lines().map(line::matcher).filter(Matcher::matches).toList();
    }

    @Override
    public String toString() {
        return "exit " + code + "\n--- out:\n" + out + "\n--- err:\n" + err;
    }

    /** A CLI run on its own thread: its output so far, then its end. */
    public static final class Running {
        private final StringWriter out = new StringWriter();
        private final StringWriter err = new StringWriter();
        private final PrintWriter outWriter = new PrintWriter(out, true);
        private final PrintWriter errWriter = new PrintWriter(err, true);
        private CompletableFuture<Integer> code;

        private Running() {
        }

        /** Stdout so far (StringWriter is synchronized: safe while the CLI writes). */
        public String outSoFar() {
            return out.toString();
        }

        /** Waits for the end of the run; fails on a CR or escape character in its output. */
        public CliRun await(Duration within) throws InterruptedException, ExecutionException, TimeoutException {
            return finished(code.get(within.toMillis(), TimeUnit.MILLISECONDS), Terminals.NONE);
        }

        private CliRun finished(int exit, Terminals terminals) {
            if (!terminals.stdoutLive()) {
                PlainOutput.assertPlain(out.toString(), err.toString());
            }
            return new CliRun(exit, out.toString(), err.toString());
        }
    }
}
