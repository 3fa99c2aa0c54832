package dev.ferry.agent.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.agent.store.PageStore;
import dev.ferry.proto.Compression;
import dev.ferry.proto.PageBatch;
import dev.ferry.proto.RoundFigures;
import dev.ferry.proto.StoreStatusReply;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents over real gRPC on loopback, a real child process whose memory is read for real:
 * rounds reach the destination store intact, a corrupted batch is refused, a full disk is named.
 */
class PageStreamLoopbackTest {
  @TempDir static Path shared;
  static Path memwriter;

  @BeforeAll
  static void compileWorkload() throws Exception {
    memwriter = MemWriter.compile(shared);
  }

  @Test
  void roundsConvergeAndTheStoreEqualsTheFrozenProcessByteForByte(@TempDir Path dir) throws Exception {
    runRoundsAndCompare(dir, Compression.COMPRESSION_NONE);
  }

  @Test
  void lz4CompressedRoundsStoreTheSameBytes(@TempDir Path dir) throws Exception {
    runRoundsAndCompare(dir, Compression.COMPRESSION_LZ4);
  }

  private void runRoundsAndCompare(Path dir, Compression compression) throws Exception {
    try (MemWriter child = MemWriter.start(memwriter, 24);
        TwoAgents agents = new TwoAgents(dir, SendOptions.defaults(), dir.resolve("host2"))) {
      String id = "m-" + compression.getNumber();
      agents.begin(id, child.pid(), compression);
      RoundFigures first = agents.round(id, 1);
      assertTrue(first.getDirtyPages() >= 24 * 256, "round 1 copies every page: " + first);
      assertTrue(first.getZeroPages() >= 24 * 64, "the untouched quarter goes as zero flags: " + first);
      RoundFigures second = agents.round(id, 2);
      assertTrue(second.getDirtyPages() < first.getDirtyPages(), "round 2 sends only what changed: " + second);
      child.stop();
      RoundFigures last = agents.round(id, 3);
      StoreStatusReply status = agents.status(id);
      assertEquals(last.getDestinationDigest(), status.getDigest());
      assertEquals(3, status.getLastRound());
      assertStoreEqualsMemory(agents.destination.stores().get(id).orElseThrow(), child.pid(), 24);
      if (compression == Compression.COMPRESSION_LZ4) {
        assertTrue(first.getBytesSent() < first.getDirtyPages() * 4096L, "LZ4 shrank zero-free pages? " + first);
      }
    }
  }

  @Test
  void aCorruptedBatchIsDataLossAndNothingOfTheRoundIsApplied(@TempDir Path dir) throws Exception {
    AtomicBoolean corrupt = new AtomicBoolean();
    SendOptions send = SendOptions.defaults().withBatchHook(batch -> {
      // The first batch with page data once armed: flip one byte after the CRC was computed.
      if (batch.getData().isEmpty() || !corrupt.compareAndSet(true, false)) {
        return batch;
      }
      byte[] bytes = batch.getData().toByteArray();
      bytes[100] ^= 0x01;
      return PageBatch.newBuilder(batch).setData(ByteString.copyFrom(bytes)).build();
    });
    try (MemWriter child = MemWriter.start(memwriter, 16);
        TwoAgents agents = new TwoAgents(dir, send, dir.resolve("host2"))) {
      agents.begin("m-crc", child.pid(), Compression.COMPRESSION_NONE);
      agents.round("m-crc", 1);
      StoreStatusReply before = agents.status("m-crc");
      corrupt.set(true);
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> agents.round("m-crc", 2));
      assertEquals(Status.Code.DATA_LOSS, e.getStatus().getCode(), e.getStatus().toString());
      assertTrue(e.getStatus().getDescription().contains("CRC32C"), e.getStatus().getDescription());
      StoreStatusReply after = agents.status("m-crc");
      assertEquals(before, after, "nothing of the corrupted round was applied");
      assertTrue(!corrupt.get(), "the hook did corrupt a batch");
      StatusRuntimeException again = assertThrows(StatusRuntimeException.class, () -> agents.round("m-crc", 3));
      assertEquals(Status.Code.FAILED_PRECONDITION, again.getStatus().getCode());
    }
  }

  @Test
  void aFullDiskIsResourceExhaustedWithAClearDescription(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "mounting a small tmpfs needs root");
    Path small = Files.createDirectories(dir.resolve("small"));
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString()).inheritIO().start();
    Assumptions.assumeTrue(mount.waitFor() == 0, "mount -t tmpfs failed (no CAP_SYS_ADMIN in this container?)");
    try (MemWriter child = MemWriter.start(memwriter, 8);
        TwoAgents agents = new TwoAgents(dir, SendOptions.defaults(), small.resolve("host2"))) {
      agents.begin("m-full", child.pid(), Compression.COMPRESSION_NONE);
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> agents.round("m-full", 1));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
      assertTrue(e.getStatus().getDescription().contains("disk full"), e.getStatus().getDescription());
      StoreStatusReply after = agents.status("m-full");
      assertEquals(0, after.getPages());
      assertEquals(0, after.getLastRound());
      try (var files = Files.list(agents.destination.stores().directoryOf("m-full"))) {
        assertEquals(0, files.count(), "the failed round left no files");
      }
    } finally {
      new ProcessBuilder("umount", small.toString()).inheritIO().start().waitFor();
    }
  }

  /** Every page the store holds equals the (frozen) process's memory; the workload's pages are all there. */
  static void assertStoreEqualsMemory(PageStore store, int pid, int workloadMib) throws Exception {
    ByteBuffer fromStore = ByteBuffer.allocateDirect(4096);
    ByteBuffer fromMemory = ByteBuffer.allocateDirect(4096);
    long[] compared = {0};
    List<Long> addresses = new ArrayList<>();
    store.forEachPage(pid, (address, hash, location) -> addresses.add(address));
    try (FileChannel mem = FileChannel.open(Path.of("/proc/" + pid + "/mem"), StandardOpenOption.READ)) {
      for (long a : addresses) {
        fromStore.clear();
        assertTrue(store.readPage(pid, a, fromStore));
        fromMemory.clear();
        while (fromMemory.hasRemaining()) {
          if (mem.read(fromMemory, a + fromMemory.position()) <= 0) {
            throw new AssertionError("cannot read page " + Long.toHexString(a) + " of " + pid);
          }
        }
        fromStore.flip();
        fromMemory.flip();
        assertEquals(fromMemory, fromStore, "page " + Long.toHexString(a) + " differs");
        compared[0]++;
      }
    }
    assertEquals(store.status().pages(), compared[0]);
    assertTrue(compared[0] >= workloadMib * 256L, "the store holds the workload's " + workloadMib + " MiB: " + compared[0]);
  }
}
