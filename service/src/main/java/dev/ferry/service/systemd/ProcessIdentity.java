package dev.ferry.service.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process as the kernel tells it apart: its pid and its start time (clock ticks after boot,
 * field 22 of /proc/PID/stat). A pid alone may have been reused by another process after a
 * crash and restart; pid and start time together may not.
 */
public record ProcessIdentity(long pid, long startTicks) {

    /** The identity of the running process {@code pid}, or empty if there is none (or no /proc). */
    public static Optional<ProcessIdentity> of(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException | SecurityException gone) {
            return Optional.empty();
        }
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the last ')' ends it.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        try {
            return Optional.of(new ProcessIdentity(pid, Long.parseLong(fields[19])));
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException malformed) {
            return Optional.empty();
        }
    }

    /** Whether this very process still exists (same pid, same start time). */
    public boolean alive() {
        return of(pid).filter(this::equals).isPresent();
    }
}
