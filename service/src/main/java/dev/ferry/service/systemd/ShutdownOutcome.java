package dev.ferry.service.systemd;

import java.time.Duration;
import java.util.List;

/**
 * What a graceful shutdown did: the hooks that finished, those that failed (with why), and those
 * still running at the deadline.
 */
public record ShutdownOutcome(List<String> rolledBack, List<String> failed, List<String> timedOut, Duration took) {

    public ShutdownOutcome {
        rolledBack = List.copyOf(rolledBack);
        failed = List.copyOf(failed);
        timedOut = List.copyOf(timedOut);
    }

    public boolean clean() {
        return failed.isEmpty() && timedOut.isEmpty();
    }

    /** One line for the log and the unit status. */
    public String summary() {
        return rolledBack.size() + " rolled back, " + failed.size() + " failed, " + timedOut.size()
                + " timed out in " + took.toMillis() + " ms"
                + (failed.isEmpty() ? "" : "; failed: " + String.join("; ", failed))
                + (timedOut.isEmpty() ? "" : "; timed out: " + String.join(", ", timedOut));
    }
}
