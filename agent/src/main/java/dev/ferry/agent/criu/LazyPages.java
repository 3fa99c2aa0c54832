package dev.ferry.agent.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * CRIU's lazy-pages restore: {@code criu restore --lazy-pages} leaves the anonymous private pages
 * a dump marked PE_LAZY to a local {@code criu lazy-pages} daemon, which serves them through
 * userfaultfd (on fault, and in the background once the restore has finished, also into a copy
 * left stopped). With Ferry's incremental dump those are the final delta's own pages; the pages
 * taken from the parent are PE_PARENT only and CRIU still restores them eagerly (see
 * docs/SWITCHOVER.md). Lab (64 MiB, 6355 delta pages): criu restore 3.3 s to 1.1 s.
 *
 * <p>Rendezvous: the daemon listens on the unix socket {@value #SOCKET}, a path relative to its
 * work dir (= {@code -D}); the restore connects to the same name in its own, so both run with
 * {@code -D final} and the daemon must listen first.
 *
 * <p>Invariant after the restore: the restored process depends on the daemon and the images until
 * the daemon has copied every page and exited 0. A daemon that dies earlier releases the uffd and
 * the pages it did not copy then read as ZERO pages (no crash): before the commit that is a failed
 * restore (rollback); after it, the migrated process is lost and must be killed, loudly.
 */
public final class LazyPages {
  static final String SOCKET = "lazy-pages.socket";

  private LazyPages() {}

  /** Whether lazy pages can be used on this host. */
  public sealed interface Support permits Supported, Unsupported {}

  public record Supported() implements Support {}

  public record Unsupported(String reason) implements Support {}

  /** {@code criu check --feature uffd-noncoop} (CRIU 3.17 has no "lazy_pages" feature name). */
  public static Support probe(CriuCommand criu, Duration deadline) throws InterruptedException {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("ferry-criu-lazy-probe");
      CriuCommand.Run run = criu.run(List.of("check", "--feature", "uffd-noncoop"), dir, "check-uffd", deadline);
      return run.exitCode() == 0 ? new Supported()
          : new Unsupported("criu check --feature uffd-noncoop exited " + run.exitCode() + ": " + run.output().strip());
    } catch (CriuFailure f) {
      return new Unsupported(f.describe());
    } catch (IOException e) {
      return new Unsupported("cannot probe: " + e.getMessage());
    } finally {
      if (dir != null) {
        try {
          Restorer.deleteTree(dir);
        } catch (IOException ignored) {
          // a temp dir
        }
      }
    }
  }

  /** A running {@code criu lazy-pages} serving one restore from {@code finalDir}. */
  public static final class Daemon implements AutoCloseable {
    private final Process process;
    private final Path finalDir;

    private Daemon(Process process, Path finalDir) {
      this.process = process;
      this.finalDir = finalDir;
    }

    /**
     * Starts the daemon for the images in {@code finalDir} and waits (up to {@code within}) until
     * its socket exists. Any failure stops it and is a CriuFailure with its log.
     */
    static Daemon start(CriuCommand criu, Path finalDir, Duration within) throws CriuFailure, InterruptedException {
      Path socket = finalDir.resolve(SOCKET);
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "cannot remove a stale " + socket + ": " + e.getMessage(), e);
      }
      Process p = criu.start(List.of("lazy-pages", "-D", finalDir.toString(), "-v" + criu.logLevel(), "-o", "lazy-pages.log"),
          finalDir, "lazy-pages");
      Daemon d = new Daemon(p, finalDir);
      long end = System.nanoTime() + within.toNanos();
      while (!Files.exists(socket)) {
        if (!p.isAlive() || System.nanoTime() > end) {
          d.close();
          throw new CriuFailure(CriuFailure.Reason.FAILED, "criu lazy-pages in " + finalDir
              + (p.isAlive() ? " did not listen within " + within.toMillis() + " ms" : " exited " + p.exitValue()),
              CriuCommand.tail(finalDir.resolve("lazy-pages.log")));
        }
        try {
          Thread.sleep(5); // polling for a file another process creates
        } catch (InterruptedException e) {
          d.close(); // never leave a daemon nobody owns
          throw e;
        }
      }
      return d;
    }

    /** Waits up to {@code within} for the daemon to finish; true when it has exited 0 (every page copied). */
    public boolean awaitServed(Duration within) throws InterruptedException {
      return process.waitFor(within.toNanos(), TimeUnit.NANOSECONDS) && process.exitValue() == 0;
    }

    /** Whether the daemon still runs (pages left to copy). */
    public boolean running() {
      return process.isAlive();
    }

    /** Its exit code, or -1 while it runs. */
    public int exitCode() {
      return process.isAlive() ? -1 : process.exitValue();
    }

    /** Runs {@code action} once the daemon exits (on a pool thread: keep it short). */
    public void onExit(Runnable action) {
      process.onExit().thenRun(action);
    }

    /** The tail of its log, for a failure report. */
    public String logTail() {
      return CriuCommand.tail(finalDir.resolve("lazy-pages.log"));
    }

    /** Stops it (rollback, or a failed restore). Idempotent. */
    @Override
    public void close() {
      process.destroyForcibly();
    }
  }
}
