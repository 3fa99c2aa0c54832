package dev.ferry.service.systemd;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * What to undo if the daemon dies without running its {@link GracefulShutdown}: SIGKILL, the
 * watchdog's SIGABRT, an OOM kill, a power cut of the JVM. Before freezing a process the agent
 * records it here (one small file per operation, written atomically, in
 * {@code /run/ferry/agent/rollbacks}, which the unit keeps across restarts); when the operation
 * ends (committed, rolled back) it closes the entry and the file goes. A restarted agent reads
 * the {@link #leftovers} of the run before it and settles each one (resume the process if the
 * migration did not commit, ask the coordinator otherwise), then {@link Leftover#discard}s it.
 *
 * <p>The process is remembered with its {@link ProcessIdentity} so that a pid reused since the
 * crash is never signalled.
 *
 * <p>Thread safety: entries may be recorded and closed from any thread (one file each).
 */
public final class RollbackJournal {

    private static final String SUFFIX = ".rollback";

    private final Path directory;
    private final List<Leftover> leftovers;

    private RollbackJournal(Path directory, List<Leftover> leftovers) {
        this.directory = directory;
        this.leftovers = List.copyOf(leftovers);
    }

    /** Opens (creating) the journal in {@code directory} and reads what an earlier run left there. */
    public static RollbackJournal open(Path directory) throws IOException {
        Files.createDirectories(directory);
        List<Leftover> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path file : files) {
                found.add(read(file));
            }
        }
        found.sort((a, b) -> a.id().compareTo(b.id()));
        // temporary files of a write the crash interrupted hold nothing recorded
        try (DirectoryStream<Path> partial = Files.newDirectoryStream(directory, "*.tmp")) {
            for (Path file : partial) {
                Files.deleteIfExists(file);
            }
        }
        return new RollbackJournal(directory, found);
    }

    /** The entries of earlier runs, found when this journal was opened. */
    public List<Leftover> leftovers() {
        return leftovers;
    }

    /**
     * Records that process {@code pid} is about to be changed (frozen) by operation {@code id};
     * {@code details} are whatever the daemon needs to settle it after a crash (migration id,
     * peer, phase). Close the returned entry when the operation has ended either way.
     *
     * @throws IOException if the record cannot be written: then the operation must not start
     */
    public Entry record(String id, long pid, Map<String, String> details) throws IOException {
        ProcessIdentity identity = ProcessIdentity.of(pid)
                .orElseThrow(() -> new IOException("no process " + pid + " to record for " + id));
        Properties properties = new Properties();
        properties.setProperty("id", id);
        properties.setProperty("pid", Long.toString(pid));
        properties.setProperty("start-ticks", Long.toString(identity.startTicks()));
        details.forEach((k, v) -> properties.setProperty("detail." + k, v));
        Path file = directory.resolve(fileName(id));
        Path temporary = directory.resolve(fileName(id) + ".tmp");
        try (Writer out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
            properties.store(out, "Ferry: undo this if the daemon died before it ended");
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return new Entry(id, file);
    }

    /** An operation of this run; close it when the operation has ended. */
    public static final class Entry implements AutoCloseable {
        private final String id;
        private final Path file;

        private Entry(String id, Path file) {
            this.id = id;
            this.file = file;
        }

        public String id() {
            return id;
        }

        /** Forgets the operation (removes its file); idempotent. */
        @Override
        public void close() throws IOException {
            Files.deleteIfExists(file);
        }
    }

    /** An operation an earlier run of the daemon did not end. */
    public record Leftover(String id, ProcessIdentity process, Map<String, String> details, Path file) {

        /** Whether the recorded process still exists (same pid and start time): safe to signal. */
        public boolean processAlive() {
            return process.alive();
        }

        public Optional<String> detail(String key) {
            return Optional.ofNullable(details.get(key));
        }

        /** Removes the record once settled. */
        public void discard() throws IOException {
            Files.deleteIfExists(file);
        }
    }

    private static Leftover read(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(in);
        }
        try {
            Map<String, String> details = new TreeMap<>();
            for (String key : properties.stringPropertyNames()) {
                if (key.startsWith("detail.")) {
                    details.put(key.substring("detail.".length()), properties.getProperty(key));
                }
            }
            ProcessIdentity process = new ProcessIdentity(Long.parseLong(properties.getProperty("pid")),
                    Long.parseLong(properties.getProperty("start-ticks")));
            return new Leftover(properties.getProperty("id"), process, new LinkedHashMap<>(details), file);
        } catch (NumberFormatException | NullPointerException malformed) {
            throw new IOException(file + ": not a rollback record (pid, start-ticks, id)", malformed);
        }
    }

    /** A file name for any id: ASCII letters, digits, '-' and '_' as they are; any other byte as %xx. */
    static String fileName(String id) {
        StringBuilder name = new StringBuilder();
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (Character.isLetterOrDigit(c) && c < 128 || c == '-' || c == '_') {
                name.append(c);
            } else {
                name.append(String.format("%%%02x", b & 0xff));
            }
        }
        return name + SUFFIX;
    }
}
