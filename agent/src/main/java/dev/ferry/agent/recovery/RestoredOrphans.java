package dev.ferry.agent.recovery;

import dev.ferry.service.systemd.ProcessIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Restored copies an earlier run of the destination agent left without a rollback record: it was
 * killed during {@code criu restore} (or right after it, before it recorded the copy). CRIU
 * itself runs on, finishes the restore and writes the restored pid into the migration's work
 * dir, leaving the copy stopped ({@code --leave-stopped}) with nobody knowing about it.
 *
 * <p>Each store dir {@code <stores>/<id>/} may hold {@link #BEGUN} (the boot-relative clock tick
 * at which the agent began the restore, written before running CRIU) and CRIU's pid file. A copy
 * is taken for the restored one only if that pid exists, is stopped and started after
 * {@link #BEGUN}: a pid reused since then by another process does not pass.
 */
public final class RestoredOrphans {
  /** Written in the store dir before {@code criu restore} runs: USER_HZ ticks since boot. */
  public static final String BEGUN = "restore-begun";
  /** /proc/PID/stat start times are in USER_HZ ticks, 100 per second on Linux. */
  static final long TICKS_PER_SECOND = 100;

  private RestoredOrphans() {}

  /** A stopped restored copy found in a store dir. */
  public record Orphan(String migrationId, ProcessIdentity process) {}

  /** Records the start of a restore in {@code storeDir} now (call before CRIU runs). */
  public static void markBegun(Path storeDir) throws IOException {
    String first = Files.readString(Path.of("/proc/uptime"), StandardCharsets.US_ASCII).strip().split("\\s+")[0];
    try {
      markBegun(storeDir, Duration.ofMillis((long) (Double.parseDouble(first) * 1000)));
    } catch (NumberFormatException e) {
      throw new IOException("unreadable /proc/uptime: '" + first + "'", e);
    }
  }

  /** Records the start of a restore in {@code storeDir} at {@code uptime} since boot. */
  public static void markBegun(Path storeDir, Duration uptime) throws IOException {
    Path tmp = storeDir.resolve(BEGUN + ".tmp");
    Files.writeString(tmp, Long.toString(uptime.toMillis() * TICKS_PER_SECOND / 1000), StandardCharsets.US_ASCII);
    Files.move(tmp, storeDir.resolve(BEGUN), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * The stopped restored copies under {@code storesRoot}, one per store dir that has both files
   * and whose pid passes the checks above. {@code pidFileName} is where CRIU's pid file is in a
   * store dir (criu.Restorer's choice). Unreadable dirs are skipped.
   */
  public static List<Orphan> scan(Path storesRoot, String pidFileName) {
    List<Orphan> found = new ArrayList<>();
    if (!Files.isDirectory(storesRoot)) {
      return found;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(storesRoot, Files::isDirectory)) {
      for (Path dir : dirs) {
        inspect(dir, pidFileName).ifPresent(found::add);
      }
    } catch (IOException e) {
      return found;
    }
    return found;
  }

  static Optional<Orphan> inspect(Path dir, String pidFileName) {
    try {
      Path begun = dir.resolve(BEGUN);
      Path pidFile = dir.resolve(pidFileName);
      if (!Files.isRegularFile(begun) || !Files.isRegularFile(pidFile)) {
        return Optional.empty();
      }
      long begunTicks = Long.parseLong(Files.readString(begun, StandardCharsets.US_ASCII).strip());
      long pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).strip());
      Optional<ProcessIdentity> p = ProcessIdentity.of(pid);
      // one tick of slack: the mark's clock is read in ms, /proc's in ticks
      if (p.isEmpty() || p.get().startTicks() + 1 < begunTicks || !stopped(pid)) {
        return Optional.empty();
      }
      return Optional.of(new Orphan(dir.getFileName().toString(), p.get()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Whether a {@code criu restore} whose image dir lies under {@code storesRoot} still runs. */
  public static boolean restoreRunning(Path storesRoot) {
    String root = storesRoot.toAbsolutePath().toString();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path p : procs) {
        try {
          String[] args = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).split("\0");
          if (args.length > 2 && args[0].endsWith("criu") && List.of(args).contains("restore")
              && List.of(args).stream().anyMatch(a -> a.startsWith(root))) {
            return true;
          }
        } catch (IOException | RuntimeException gone) {
          // exited meanwhile
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  private static boolean stopped(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    char state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state == 'T' || state == 't';
  }
}
