package dev.ferry.cli.attach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether the CLI's stdout can take a live, redrawn status line and whether its stdin can answer
 * a question. Decided once, by {@code main}, about the process's own fd 0 and fd 1: only main
 * knows that the writers it hands on are those descriptors. Any other caller (tests, an embedding
 * program) writes somewhere else and gets {@link #NONE}: plain lines, no {@code CR}/erase-line.
 * Java 17's {@code System.console()} answers for stdin and stdout at once; the CLI needs them
 * apart (stdout piped to a file while stdin is still the keyboard).
 *
 * @param stdoutLive stdout is a terminal that can erase lines (not a pipe or file, not TERM=dumb)
 * @param stdinTerminal stdin is a terminal: someone can answer the Ctrl-C question
 */
public record Terminals(boolean stdoutLive, boolean stdinTerminal) {
    /** Neither: every line is permanent and Ctrl-C detaches without asking. */
    public static final Terminals NONE = new Terminals(false, false);

    /** The process's own stdin/stdout, as {@code main} uses them. */
    public static Terminals detect() {
        return new Terminals(liveTerminal(fdTarget(1), System.getenv("TERM")), isTerminal(fdTarget(0)));
    }

    /** The same, with the live status line off ({@code --no-progress}): one plain line per event. */
    public Terminals withoutProgress() {
        return new Terminals(false, stdinTerminal);
    }

    /** A terminal that can erase lines: a tty, and a TERM that is set and not "dumb". */
    static boolean liveTerminal(String fdTarget, String term) {
        return isTerminal(fdTarget) && term != null && !term.isEmpty() && !term.equals("dumb");
    }

    /** @param fdTarget what /proc/self/fd/N links to ("pipe:[..]", a file path, "/dev/pts/3"), or "" */
    static boolean isTerminal(String fdTarget) {
        return fdTarget.startsWith("/dev/pts/") || fdTarget.startsWith("/dev/tty") || fdTarget.equals("/dev/console");
    }

    private static String fdTarget(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return ""; // no /proc: treat as not a terminal (plain output, detach on Ctrl-C)
        }
    }
}
