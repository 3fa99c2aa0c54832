package dev.ferry.agent.criu;

import com.sun.jna.Library;
import com.sun.jna.Native;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.PageSink;
import dev.ferry.agent.tracking.ProcessLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A deliberately small soft-dirty pre-copy of ONE process for the switch-over lab test, standing
 * in for the engine's tracker (dev.ferry.agent.tracking) until it is on main: SIGSTOP, read maps
 * and pagemap, write 4 to clear_refs, SIGCONT, then copy the captured pages from /proc/PID/mem
 * while the process runs. It copies what CRIU would dump: private areas except vvar/vsyscall,
 * present or swapped pages (of private file mappings only anonymous ones), and every vdso page.
 */
final class LabSoftDirtyRounds {
  private static final long PAGE = 4096;
  private static final long PM_PRESENT = 1L << 63;
  private static final long PM_SWAP = 1L << 62;
  private static final long PM_FILE = 1L << 61;
  private static final long PM_SOFT_DIRTY = 1L << 55;

  private interface LibC extends Library {
    int kill(int pid, int sig);
  }

  private final LibC libc = Native.load("c", LibC.class);
  private final ProcessTree processes = new ProcessTree();
  private final int pid;
  private int round;

  LabSoftDirtyRounds(int pid) {
    this.pid = pid;
  }

  record Figures(int round, long dirtyPages, Duration freeze, Duration copy) {}

  /** One round: capture (frozen) then copy (running) into {@code sink}, layout to {@code held}. */
  Figures round(PageSink sink, HeldPages held) throws IOException, InterruptedException {
    round++;
    long t0 = System.nanoTime();
    libc.kill(pid, 19); // SIGSTOP
    List<long[]> dirty = new ArrayList<>(); // {address, pages}
    List<AddressRange> areas = new ArrayList<>();
    try {
      awaitStopped();
      Path proc = Path.of("/proc", Integer.toString(pid));
      try (FileChannel pagemap = FileChannel.open(proc.resolve("pagemap"), StandardOpenOption.READ)) {
        for (String line : Files.readAllLines(proc.resolve("maps"))) {
          String[] f = line.split("\\s+", 6);
          String name = f.length > 5 ? f[5].strip() : "";
          if (f[1].charAt(3) == 's' || name.equals("[vvar]") || name.equals("[vsyscall]")) {
            continue;
          }
          String[] r = f[0].split("-");
          long lo = Long.parseUnsignedLong(r[0], 16);
          long hi = Long.parseUnsignedLong(r[1], 16);
          areas.add(new AddressRange(lo, hi));
          boolean fileBacked = !f[4].equals("0");
          boolean vdso = name.equals("[vdso]");
          int n = (int) ((hi - lo) / PAGE);
          ByteBuffer entries = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
          while (entries.hasRemaining() && pagemap.read(entries, lo / PAGE * 8 + entries.position()) > 0) {
            // read until full
          }
          for (int i = 0; i < n; i++) {
            long e = entries.getLong(i * 8);
            boolean want = vdso
                ? round == 1 || (e & PM_SOFT_DIRTY) != 0
                : (e & (PM_PRESENT | PM_SWAP)) != 0 && !(fileBacked && (e & PM_FILE) != 0)
                    && (round == 1 || (e & PM_SOFT_DIRTY) != 0);
            if (want) {
              long a = lo + i * PAGE;
              long[] last = dirty.isEmpty() ? null : dirty.get(dirty.size() - 1);
              if (last != null && last[0] + last[1] * PAGE == a) {
                last[1]++;
              } else {
                dirty.add(new long[] {a, 1});
              }
            }
          }
        }
      }
      Files.writeString(proc.resolve("clear_refs"), "4");
    } finally {
      libc.kill(pid, 18); // SIGCONT
    }
    Duration freeze = Duration.ofNanos(System.nanoTime() - t0);
    held.layout(List.of(new ProcessLayout(pid, areas, List.of(), 0)));
    PageSink recording = held.recording(sink);
    long t1 = System.nanoTime();
    long pages = 0;
    ByteBuffer buf = ByteBuffer.allocateDirect((int) (256 * PAGE + PAGE)).alignedSlice((int) PAGE);
    try (FileChannel mem = FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"), StandardOpenOption.READ)) {
      for (long[] run : dirty) {
        for (long off = 0; off < run[1]; off += 256) {
          int n = (int) Math.min(256, run[1] - off);
          long a = run[0] + off * PAGE;
          buf.clear().limit((int) (n * PAGE));
          while (buf.hasRemaining()) {
            if (mem.read(buf, a + buf.position()) <= 0) {
              throw new IOException("short read of pid " + pid + " at " + Long.toHexString(a));
            }
          }
          buf.flip();
          recording.pages(pid, a, n, buf);
          pages += n;
        }
      }
    }
    return new Figures(round, pages, freeze, Duration.ofNanos(System.nanoTime() - t1));
  }

  private void awaitStopped() throws InterruptedException, IOException {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!processes.state(pid).orElse("").equals("T")) {
      if (System.nanoTime() > end) {
        throw new IOException("pid " + pid + " did not stop");
      }
      Thread.sleep(1);
    }
  }
}
