package dev.ferry.agent.transfer;

import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.CapturedRound;
import dev.ferry.agent.tracking.CopyFigures;
import dev.ferry.agent.tracking.PageSink;
import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.ProcessLayout;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.proto.TrackerKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal content-hash tracker for the transfer tests until the engine's lands: private writable
 * areas from /proc/PID/maps, pages read from /proc/PID/mem, a page is dirty when its hash changed.
 * Not the engine: no freeze, no process tree, no vdso rules.
 */
final class ProcMemSession implements PrecopySession {
  private final int pid;
  private final PageHashing hashing = new PageHashing();
  private final Map<Long, Long> previous = new HashMap<>();
  private List<AddressRange> previousAreas = List.of();

  ProcMemSession(int pid) {
    this.pid = pid;
  }

  static PrecopySession open(int pid, boolean dryRun) {
    return new ProcMemSession(pid);
  }

  @Override
  public TrackerKind kind() {
    return TrackerKind.CONTENT_HASH;
  }

  @Override
  public String reason() {
    return "test tracker: hashes of /proc/PID/mem";
  }

  @Override
  public int rootPid() {
    return pid;
  }

  static List<AddressRange> areas(int pid) throws TrackingException {
    List<AddressRange> areas = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/maps"))) {
        String[] f = line.split("\\s+", 6);
        String name = f.length > 5 ? f[5] : "";
        if (f[1].startsWith("rw") && f[1].charAt(3) == 'p' && !name.startsWith("[v")) {
          String[] r = f[0].split("-");
          areas.add(new AddressRange(Long.parseUnsignedLong(r[0], 16), Long.parseUnsignedLong(r[1], 16)));
        }
      }
    } catch (IOException e) {
      throw new TrackingException(TrackingException.Reason.PROCESS_EXITED, pid, "reading maps of " + pid + ": " + e);
    }
    return areas;
  }

  @Override
  public CapturedRound capture() throws TrackingException {
    Instant at = Instant.now();
    List<AddressRange> areas = areas(pid);
    List<AddressRange> removed = new ArrayList<>(previousAreas);
    removed.removeAll(areas);
    previousAreas = areas;
    for (AddressRange r : removed) {
      previous.keySet().removeIf(r::contains);
    }
    ProcessLayout layout = new ProcessLayout(pid, areas, removed, 0);
    return new CapturedRound() {
      @Override
      public int round() {
        return 0;
      }

      @Override
      public Instant capturedAt() {
        return at;
      }

      @Override
      public Duration freezeWindow() {
        return Duration.ZERO;
      }

      @Override
      public List<ProcessLayout> processes() {
        return List.of(layout);
      }

      @Override
      public CopyFigures copy(PageSink sink) throws TrackingException, InterruptedException {
        long start = System.nanoTime();
        long dirty = 0;
        long zero = 0;
        long bytes = 0;
        long total = 0;
        ByteBuffer buf = AlignedBuffers.allocate(256 * PageHashing.PAGE);
        try (FileChannel mem = FileChannel.open(Path.of("/proc/" + pid + "/mem"), StandardOpenOption.READ)) {
          for (AddressRange area : areas) {
            for (long a = area.start(); a < area.end(); a += buf.capacity()) {
              int len = (int) Math.min(buf.capacity(), area.end() - a);
              buf.clear().limit(len);
              while (buf.hasRemaining()) {
                if (mem.read(buf, a + buf.position()) <= 0) {
                  throw new IOException("short read at " + Long.toHexString(a));
                }
              }
              bytes += len;
              int pages = len / PageHashing.PAGE;
              total += pages;
              int runStart = -1;
              for (int i = 0; i <= pages; i++) {
                boolean send = false;
                boolean isZero = false;
                if (i < pages) {
                  long h = hashing.contentHash(buf, i * PageHashing.PAGE);
                  Long old = previous.put(a + (long) i * PageHashing.PAGE, h);
                  send = old == null || old != h;
                  isZero = h == hashing.zeroContentHash();
                }
                if (send && isZero) {
                  dirty++;
                  zero++;
                }
                boolean data = send && !isZero;
                if (data && runStart < 0) {
                  runStart = i;
                }
                if (!data && runStart >= 0) {
                  ByteBuffer slice = buf.duplicate().position(runStart * PageHashing.PAGE).limit(i * PageHashing.PAGE);
                  sink.pages(pid, a + (long) runStart * PageHashing.PAGE, i - runStart, slice);
                  dirty += i - runStart;
                  runStart = -1;
                }
                if (send && isZero) {
                  sink.zeroPages(pid, a + (long) i * PageHashing.PAGE, 1);
                }
              }
            }
          }
        } catch (IOException e) {
          throw new TrackingException(TrackingException.Reason.IO_ERROR, pid, "copy of " + pid + ": " + e.getMessage(), e);
        }
        return new CopyFigures(dirty, zero, bytes, total, Duration.ofNanos(System.nanoTime() - start));
      }
    };
  }

  @Override
  public void close() {}
}
