package dev.ferry.cli.attach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether stdin/stdout are terminals. Java 17's {@code System.console()} answers for both at
 * once; the CLI needs them apart (stdout piped to a file while stdin is still the keyboard).
 */
public final class Terminals {
    private Terminals() {
    }

    public static boolean stdinIsTerminal() {
        return isTerminal(0);
    }

    /** A terminal that can erase lines: not a pipe, not TERM=dumb. */
    public static boolean stdoutIsLiveTerminal() {
        String term = System.getenv("TERM");
        return isTerminal(1) && term != null && !term.isEmpty() && !term.equals("dumb");
    }

    private static boolean isTerminal(int fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false; // no /proc: treat as not a terminal (plain output, detach on Ctrl-C)
        }
    }
}
