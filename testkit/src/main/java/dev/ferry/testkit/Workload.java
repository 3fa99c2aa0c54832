package dev.ferry.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * The {@code ferry-memtouch} workload running as a real child process in its own session
 * ({@code setsid}, stdin from /dev/null, no terminal), optionally as the init of its own pid
 * namespace ({@code unshare -p -f setsid ...}) so that CRIU can restore it on the same kernel
 * while the source's stopped copy still holds its pid.
 *
 * <p>Its OK/CORRUPT lines go to {@link #outputFile()}; the {@code await*} helpers poll that file
 * until a condition holds or a deadline passes. Deadlines passed to them are host deadlines:
 * they are stretched by {@link LabEnvironment#scaled(Duration)} inside the lab VM.
 *
 * <p>{@link #close()} kills the workload (and, after a migration, the pid given to
 * {@link #movedTo(long)}). Not thread-safe: one test thread drives it.
 */
public final class Workload implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(20);

    private final Process launcher;
    private final Path workDir;
    private final Path output;
    private final Path log;
    private long pid;

    private Workload(Process launcher, long pid, Path workDir, Path output, Path log) {
        this.launcher = launcher;
        this.pid = pid;
        this.workDir = workDir;
        this.output = output;
        this.log = log;
    }

    public static Builder memtouch() {
        return new Builder();
    }

    /** The workload's pid as seen from the host (outer pid namespace). */
    public long pid() {
        return pid;
    }

    /** After a migration restored the workload under another pid: who {@link #close()} kills. */
    public void movedTo(long newPid) {
        this.pid = newPid;
    }

    public Path outputFile() {
        return output;
    }

    public Path workDir() {
        return workDir;
    }

    public boolean isAlive() {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Every line written so far. */
    public List<MemtouchLine> lines() {
        if (!Files.exists(output)) {
            return List.of();
        }
        try {
            List<MemtouchLine> out = new ArrayList<>();
            for (String l : Files.readAllLines(output, StandardCharsets.UTF_8)) {
                if (!l.isBlank()) {
                    out.add(MemtouchLine.parse(l));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<MemtouchLine> okLines() {
        return lines().stream().filter(MemtouchLine::isOk).toList();
    }

    public List<MemtouchLine> corruptLines() {
        return lines().stream().filter(MemtouchLine::isCorrupt).toList();
    }

    public Optional<MemtouchLine> lastOk() {
        List<MemtouchLine> ok = okLines();
        return ok.isEmpty() ? Optional.empty() : Optional.of(ok.get(ok.size() - 1));
    }

    /** Waits for {@code count} OK lines in total; fails on a CORRUPT line or when the workload dies. */
    public MemtouchLine awaitOkLines(int count, Duration deadline) {
        return awaitOk(l -> true, count, deadline, count + " OK lines");
    }

    /** Waits for an OK line whose counter is greater than {@code counter} (e.g. after a migration). */
    public MemtouchLine awaitOkBeyond(long counter, Duration deadline) {
        return awaitOk(l -> l.counter() > counter, 1, deadline, "an OK line with counter > " + counter);
    }

    /** Throws if any CORRUPT line was written. */
    public void assertNoCorruption() {
        List<MemtouchLine> bad = corruptLines();
        if (!bad.isEmpty()) {
            throw new AssertionError("ferry-memtouch reported corrupted memory: " + bad.get(0) + describe());
        }
    }

    private MemtouchLine awaitOk(Predicate<MemtouchLine> which, int count, Duration deadline, String what) {
        Duration scaled = LabEnvironment.scaled(deadline);
        long end = System.nanoTime() + scaled.toNanos();
        while (true) {
            List<MemtouchLine> all = lines();
            assertNoCorruption(all);
            List<MemtouchLine> ok = all.stream().filter(MemtouchLine::isOk).filter(which).toList();
            if (ok.size() >= count) {
                return ok.get(count - 1);
            }
            if (!isAlive()) {
                throw new AssertionError("ferry-memtouch (pid " + pid + ") died while waiting for " + what + describe());
            }
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("no " + what + " from ferry-memtouch within " + scaled + describe());
            }
            LockSupport.parkNanos(POLL.toNanos());
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what);
            }
        }
    }

    private void assertNoCorruption(List<MemtouchLine> all) {
        for (MemtouchLine l : all) {
            if (l.isCorrupt()) {
                throw new AssertionError("ferry-memtouch reported corrupted memory: " + l + describe());
            }
        }
    }

    private String describe() {
        StringBuilder sb = new StringBuilder("\n  output ").append(output).append(":");
        List<MemtouchLine> all = lines();
        all.subList(Math.max(0, all.size() - 5), all.size()).forEach(l -> sb.append("\n    ").append(l));
        try {
            String launch = Files.exists(log) ? Files.readString(log).strip() : "";
            if (!launch.isEmpty()) {
                sb.append("\n  launcher log ").append(log).append(":\n    ").append(launch.replace("\n", "\n    "));
            }
        } catch (IOException e) {
            sb.append("\n  (launcher log unreadable: ").append(e.getMessage()).append(')');
        }
        return sb.toString();
    }

    /** Kills the workload (SIGKILL) and its launcher; the work dir stays for post-mortems. */
    @Override
    public void close() {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        launcher.destroyForcibly();
        try {
            launcher.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ferry-memtouch[pid=" + pid + ", out=" + output + "]";
    }

    /** Options of one workload run. */
    public static final class Builder {
        private long sizeMib = 64;
        private long ratePagesPerSecond = 1000;
        private Duration verifyInterval = Duration.ofMillis(500);
        private boolean ownPidNamespace;
        private Path workDir;
        private List<String> enter = List.of();

        public Builder sizeMib(long mib) {
            if (mib <= 0) {
                throw new IllegalArgumentException("size must be positive: " + mib);
            }
            this.sizeMib = mib;
            return this;
        }

        /** Pages (4 KiB) rewritten per second; 0 leaves memory untouched after the fill. */
        public Builder ratePagesPerSecond(long rate) {
            if (rate < 0) {
                throw new IllegalArgumentException("rate must be >= 0: " + rate);
            }
            this.ratePagesPerSecond = rate;
            return this;
        }

        public Builder verifyInterval(Duration interval) {
            if (interval.toMillis() <= 0) {
                throw new IllegalArgumentException("verify interval must be >= 1 ms: " + interval);
            }
            this.verifyInterval = interval;
            return this;
        }

        /** Run as the init of a new pid namespace (needs root): see the class comment. */
        public Builder ownPidNamespace(boolean own) {
            this.ownPidNamespace = own;
            return this;
        }

        /**
         * A command prefix that execs the rest in place (no fork: the launcher's pid stays the
         * one watched), e.g. {@link LabNetwork.Host#enter()} to start the workload on a lab host.
         */
        public Builder enteredThrough(List<String> prefix) {
            this.enter = List.copyOf(prefix);
            return this;
        }

        /** Where the output and launcher log go (default: a fresh temp dir). */
        public Builder workDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        public Workload start() {
            return start(MemtouchBinary.locate());
        }

        public Workload start(MemtouchBinary binary) {
            try {
                Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("ferry-memtouch-");
                Path out = dir.resolve("memtouch.out");
                Path log = dir.resolve("launcher.log");
                List<String> cmd = new ArrayList<>(enter);
                if (ownPidNamespace) {
                    cmd.addAll(List.of("unshare", "--pid", "--fork"));
                }
                // Not a process-group leader (Java forks it), so setsid execs in place: the pid
                // of this process is the workload's.
                cmd.addAll(List.of("setsid", binary.executable().toString(),
                        "--out", out.toString(), "--size-mib", Long.toString(sizeMib),
                        "--rate", Long.toString(ratePagesPerSecond), "--verify-ms", Long.toString(verifyInterval.toMillis())));
                Process p = new ProcessBuilder(cmd)
                        .directory(dir.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                        .start();
                long pid = ownPidNamespace ? awaitNamespaceInit(p, log) : p.pid();
                return new Workload(p, pid, dir, out, log);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start ferry-memtouch", e);
            }
        }

        /** The outer pid of unshare's forked child: the init of the new namespace. */
        private static long awaitNamespaceInit(Process unshare, Path log) throws IOException {
            long end = System.nanoTime() + LabEnvironment.scaled(Duration.ofSeconds(10)).toNanos();
            while (System.nanoTime() - end < 0) {
                Optional<ProcessHandle> child = unshare.children().findFirst();
                if (child.isPresent()) {
                    return child.get().pid();
                }
                if (!unshare.isAlive()) {
                    throw new IllegalStateException("unshare --pid --fork exited " + unshare.exitValue() + ": "
                            + (Files.exists(log) ? Files.readString(log).strip() : ""));
                }
                LockSupport.parkNanos(POLL.toNanos());
            }
            unshare.destroyForcibly();
            throw new IllegalStateException("unshare --pid --fork started no child in time");
        }
    }
}
