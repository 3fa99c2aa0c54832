package dev.ferry.service.logging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Whether this process's stderr is connected to journald. systemd sets {@code JOURNAL_STREAM} to
 * {@code DEV:INODE} of the stream it connected stdout/stderr to (systemd.exec(5)); stderr is the
 * journal only if its own device and inode match (a child whose stderr was redirected inherits the
 * variable but not the stream).
 */
public final class JournalStream {

    private JournalStream() {
    }

    /** The device and inode of an open file, as {@code fstat} reports them. */
    public record FileIdentity(long device, long inode) {
    }

    /** For this process: {@code JOURNAL_STREAM} against the identity of fd 2. */
    public static boolean stderrIsJournal() {
        return stderrIsJournal(System.getenv(), identityOf(Path.of("/proc/self/fd/2")));
    }

    /** Pure decision: the environment and what stderr is. */
    public static boolean stderrIsJournal(Map<String, String> environment, Optional<FileIdentity> stderr) {
        String journalStream = environment.get("JOURNAL_STREAM");
        if (journalStream == null || stderr.isEmpty()) {
            return false;
        }
        String[] parts = journalStream.strip().split(":");
        if (parts.length != 2) {
            return false;
        }
        try {
            return Long.parseUnsignedLong(parts[0]) == stderr.get().device() && Long.parseUnsignedLong(parts[1]) == stderr.get().inode();
        } catch (NumberFormatException malformed) {
            return false;
        }
    }

    /**
     * The device and inode behind {@code path} (following links: {@code /proc/self/fd/N} resolves to
     * the open pipe, socket or file), or empty where that cannot be known.
     */
    public static Optional<FileIdentity> identityOf(Path path) {
        try {
            Object device = Files.getAttribute(path, "unix:dev");
            Object inode = Files.getAttribute(path, "unix:ino");
            return Optional.of(new FileIdentity(((Number) device).longValue(), ((Number) inode).longValue()));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return Optional.empty();
        }
    }
}
