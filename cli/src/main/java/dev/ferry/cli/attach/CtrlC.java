package dev.ferry.cli.attach;

import dev.ferry.cli.CliFailure;
import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.render.ConsoleLines;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * What Ctrl-C means while attached: the operator is asked whether to cancel the migration (the
 * process stays on the source) or detach (it goes on). On a non-terminal stdin nobody can
 * answer, so it detaches and says how to re-attach. A second Ctrl-C while the question is open
 * detaches. Never kills the JVM mid-call: the follower returns and main exits normally.
 * Handlers run on the JVM's signal dispatch threads; state is in atomics.
 */
public final class CtrlC implements AutoCloseable {
    private final Follower follower;
    private final CoordinatorClient client;
    private final ConsoleLines lines;
    private final PrintWriter err;
    private final InputStream stdin;
    private final boolean stdinIsTerminal;
    private final AtomicBoolean asking = new AtomicBoolean();
    private SignalHandler previous;

    public CtrlC(Follower follower, CoordinatorClient client, ConsoleLines lines, PrintWriter err,
            InputStream stdin, boolean stdinIsTerminal) {
        this.follower = follower;
        this.client = client;
        this.lines = lines;
        this.err = err;
        this.stdin = stdin;
        this.stdinIsTerminal = stdinIsTerminal;
    }

    /** Installs the handler; {@link #close()} restores the previous one. */
    public CtrlC install() {
        previous = Signal.handle(new Signal("INT"), signal -> interrupted());
        return this;
    }

    void interrupted() {
        if (!stdinIsTerminal || !asking.compareAndSet(false, true)) {
            detach();
            return;
        }
        lines.hold();
        try {
            err.print(String.format(Locale.ROOT,
                    "%nCtrl-C: [c]ancel migration %s (the process stays on the source), [d]etach (it goes on),"
                            + " or [Enter] to keep watching? ", follower.migrationId()));
            err.flush();
            String answer = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8)).readLine();
            String a = answer == null ? "d" : answer.trim().toLowerCase(Locale.ROOT);
            if (a.startsWith("c")) {
                cancel();
            } else if (a.startsWith("d")) {
                detach();
            }
        } catch (IOException e) {
            detach();
        } finally {
            asking.set(false);
            lines.release();
        }
    }

    private void cancel() {
        err.println("cancelling " + follower.migrationId() + "...");
        err.flush();
        try {
            client.cancel(follower.migrationId());
            // The follower goes on and shows the rollback, then the final CANCELLED event.
        } catch (CliFailure f) {
            err.println("migrate: " + f.getMessage());
            err.flush();
        }
    }

    private void detach() {
        err.println();
        err.println("detached from migration " + follower.migrationId()
                + " (it goes on); re-attach with: migrate watch " + follower.migrationId());
        err.flush();
        follower.detach();
    }

    @Override
    public void close() {
        if (previous != null) {
            Signal.handle(new Signal("INT"), previous);
            previous = null;
        }
    }
}
