package dev.ferry.agent.tracking;

import dev.ferry.agent.memory.LinuxLibc;
import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.memory.ProcErrors;
import dev.ferry.agent.memory.RemoteMemory;
import dev.ferry.agent.memory.ZeroPages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The copy phase: reads page runs with process_vm_readv, up to 1024 remote iovecs and one
 * page-aligned buffer per system call, detects zero pages, and hands runs of pages to the sink in
 * address order. A page that vanished since the capture (EFAULT: unmapped meanwhile) is skipped;
 * the next round reports its area removed or copies its new contents.
 *
 * <p>Confined to the copy thread; reuses one buffer for every batch.
 */
final class PageCopier {
  private final RemoteMemory memory;
  private final int capacity;
  private final long[] addresses;
  private final boolean[] keep;
  private final boolean[] zero;
  private final ByteBuffer view;
  private long pagesOut;
  private long zeroPagesOut;
  private long bytesRead;
  private long skipped;

  PageCopier(int bufferBytes) {
    this.memory = new RemoteMemory(bufferBytes);
    this.capacity = memory.capacityPages();
    this.addresses = new long[capacity];
    this.keep = new boolean[capacity];
    this.zero = new boolean[capacity];
    this.view = memory.buffer().duplicate();
  }

  long pagesOut() {
    return pagesOut;
  }

  long zeroPagesOut() {
    return zeroPagesOut;
  }

  long bytesRead() {
    return bytesRead;
  }

  /** Pages skipped because they could no longer be read (unmapped during the copy). */
  long skipped() {
    return skipped;
  }

  void resetFigures() {
    pagesOut = zeroPagesOut = bytesRead = skipped = 0;
  }

  /** Copies every run of one process. */
  void copy(int pid, PageRuns runs, List<AddressRange> vdso, PageFilter filter, PageSink sink)
      throws TrackingException, InterruptedException {
    int run = 0;
    int offsetInRun = 0; // pages of runs[run] already handled
    while (run < runs.size()) {
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted while copying process " + pid);
      }
      if (runs.zeroFill(run)) {
        emitZeros(sink, pid, runs.start(run) + ((long) offsetInRun << PageSize.SHIFT), runs.count(run) - offsetInRun);
        run++;
        offsetInRun = 0;
        continue;
      }
      // Fill one batch: consecutive data runs until the buffer or the iovec array is full.
      int batchRun = run;
      int batchOffset = offsetInRun;
      int n = 0;
      int iov = 0;
      while (run < runs.size() && !runs.zeroFill(run) && n < capacity && iov < RemoteMemory.MAX_IOVECS) {
        int take = Math.min(runs.count(run) - offsetInRun, capacity - n);
        long address = runs.start(run) + ((long) offsetInRun << PageSize.SHIFT);
        memory.remote(iov++, address, (long) take << PageSize.SHIFT);
        for (int i = 0; i < take; i++) {
          addresses[n + i] = address + ((long) i << PageSize.SHIFT);
        }
        n += take;
        offsetInRun += take;
        if (offsetInRun == runs.count(run)) {
          run++;
          offsetInRun = 0;
        }
      }
      long want = (long) n << PageSize.SHIFT;
      long got = memory.read(pid, iov, want);
      if (got == want) {
        bytesRead += got;
        emit(pid, n, filter, sink);
        continue;
      }
      if (got < 0 && got != -LinuxLibc.EFAULT) {
        throw ProcErrors.ofErrno((int) -got, pid, "read memory (process_vm_readv) of");
      }
      // Short read: deliver the whole pages read, then deal with the first page that failed and
      // restart right after it.
      int good = got > 0 ? (int) (got >>> PageSize.SHIFT) : 0;
      bytesRead += (long) good << PageSize.SHIFT;
      if (good > 0) {
        emit(pid, good, filter, sink);
      }
      long failed = addresses[good];
      if (inAny(vdso, failed)) {
        readThroughProcMem(pid, failed);
        addresses[0] = failed;
        emit(pid, 1, filter, sink);
      } else {
        skipped++;
      }
      // reposition the cursor at the page after the failed one
      run = batchRun;
      offsetInRun = batchOffset;
      long advance = good + 1L;
      while (advance > 0) {
        int left = runs.count(run) - offsetInRun;
        if (advance >= left) {
          advance -= left;
          run++;
          offsetInRun = 0;
        } else {
          offsetInRun += (int) advance;
          advance = 0;
        }
      }
    }
  }

  private static boolean inAny(List<AddressRange> ranges, long address) {
    for (AddressRange r : ranges) {
      if (r.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** vdso pages that process_vm_readv refuses are read through /proc/PID/mem (ptrace access). */
  private void readThroughProcMem(int pid, long address) throws TrackingException {
    Path file = Path.of("/proc", Integer.toString(pid), "mem");
    ByteBuffer page = memory.buffer().duplicate();
    page.clear().limit(PageSize.BYTES);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (page.hasRemaining()) {
        if (ch.read(page, address + page.position()) <= 0) {
          throw new IOException("short read");
        }
      }
    } catch (IOException e) {
      throw ProcErrors.of(e, pid, file + " at " + Long.toHexString(address));
    }
    bytesRead += PageSize.BYTES;
  }

  private void emit(int pid, int n, PageFilter filter, PageSink sink) throws TrackingException, InterruptedException {
    ByteBuffer data = memory.buffer();
    filter.select(pid, data, addresses, n, keep);
    for (int i = 0; i < n; i++) {
      zero[i] = keep[i] && ZeroPages.isZero(data, i << PageSize.SHIFT);
    }
    int i = 0;
    while (i < n) {
      if (!keep[i]) {
        i++;
        continue;
      }
      int j = i + 1;
      while (j < n && keep[j] && zero[j] == zero[i] && addresses[j] == addresses[j - 1] + PageSize.BYTES) {
        j++;
      }
      int pages = j - i;
      try {
        if (zero[i]) {
          sink.zeroPages(pid, addresses[i], pages);
          zeroPagesOut += pages;
        } else {
          view.limit(j << PageSize.SHIFT).position(i << PageSize.SHIFT);
          sink.pages(pid, addresses[i], pages, view);
        }
      } catch (IOException e) {
        throw new TrackingException(TrackingException.Reason.IO_ERROR, pid, "page sink failed: " + e.getMessage(), e);
      }
      pagesOut += pages;
      i = j;
    }
  }

  private void emitZeros(PageSink sink, int pid, long address, int pages) throws TrackingException, InterruptedException {
    try {
      sink.zeroPages(pid, address, pages);
    } catch (IOException e) {
      throw new TrackingException(TrackingException.Reason.IO_ERROR, pid, "page sink failed: " + e.getMessage(), e);
    }
    pagesOut += pages;
    zeroPagesOut += pages;
  }
}
