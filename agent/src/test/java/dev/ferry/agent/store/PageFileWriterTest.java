package dev.ferry.agent.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PageFileWriterTest {

  /** Appends of uneven sizes (across staging-buffer bounds, more than the pool holds) land in order. */
  @Test
  void appendsLandInOrderAcrossStagingBuffers(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("round-000001.pages");
    byte[] expected = new byte[(PageFileWriter.Staging.BUFFERS + 3) * PageFileWriter.Staging.BUFFER_BYTES + 5 * 4096];
    new Random(42).nextBytes(expected);
    PageFileWriter.Staging staging = new PageFileWriter.Staging();
    try (PageFileWriter w = new PageFileWriter(file, staging, "test-writer", 3 << 20)) { // forced every 3 MiB on the way
      int at = 0;
      int[] sizes = {4096, 3 * 4096, 300 * 4096, 1 << 20, 7 * 4096};
      for (int i = 0; at < expected.length; i++) {
        int n = Math.min(sizes[i % sizes.length], expected.length - at);
        ByteBuffer data = ByteBuffer.allocateDirect(n).put(expected, at, n).flip();
        w.append(data);
        assertTrue(!data.hasRemaining(), "append consumes its input");
        at += n;
      }
      w.drain();
      w.force();
    }
    assertArrayEquals(expected, Files.readAllBytes(file));
    assertTrue(staging.free.size() == PageFileWriter.Staging.BUFFERS, "every staging buffer back in the pool");
  }

  /** Jobs queued behind the first that continue it in the file are written with it; a gap or STOP ends the gather. */
  @Test
  void gathersContiguousQueuedBuffersIntoOneWrite() {
    java.util.concurrent.BlockingQueue<PageFileWriter.Job> queue = new java.util.concurrent.ArrayBlockingQueue<>(16);
    PageFileWriter.Job first = new PageFileWriter.Job(ByteBuffer.allocate(8192), 0);
    queue.add(new PageFileWriter.Job(ByteBuffer.allocate(4096), 8192));
    queue.add(new PageFileWriter.Job(ByteBuffer.allocate(4096), 12288));
    queue.add(new PageFileWriter.Job(ByteBuffer.allocate(4096), 65536)); // not contiguous
    var jobs = PageFileWriter.gather(first, queue, 8);
    assertEquals(java.util.List.of(0L, 8192L, 12288L), jobs.stream().map(PageFileWriter.Job::offset).toList());
    assertEquals(1, queue.size(), "the job after the gap stays queued");

    queue.clear();
    queue.add(new PageFileWriter.Job(ByteBuffer.allocate(4096), 8192));
    queue.add(new PageFileWriter.Job(PageFileWriter.STOP, -1));
    assertEquals(2, PageFileWriter.gather(first, queue, 8).size());
    assertEquals(PageFileWriter.STOP, queue.peek().buffer(), "STOP is left for the writer loop");

    queue.clear();
    for (int i = 1; i <= 5; i++) {
      queue.add(new PageFileWriter.Job(ByteBuffer.allocate(8192), 8192L * i));
    }
    assertEquals(3, PageFileWriter.gather(first, queue, 3).size(), "at most the given number of jobs");
  }

  /** The round's file must be new: a leftover of an earlier run is never appended to. */
  @Test
  void refusesAnExistingFile(@TempDir Path dir) throws IOException {
    Path file = Files.createFile(dir.resolve("round-000002.pages"));
    assertThrows(FileAlreadyExistsException.class, () -> new PageFileWriter(file, new PageFileWriter.Staging(), "test-writer"));
  }
}
