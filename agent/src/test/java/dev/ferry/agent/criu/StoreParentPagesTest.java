package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The destination's parent pages come from the real page store, latest version of each page. */
class StoreParentPagesTest {
  @TempDir Path dir;

  private static ByteBuffer pages(int n, int tag) {
    ByteBuffer b = ByteBuffer.allocate(n * 4096);
    for (int i = 0; i < n; i++) {
      b.putInt(i * 4096, tag * 100 + i);
    }
    return b;
  }

  @Test
  void snapshotAndPagesFollowTheStoreAcrossRounds() throws Exception {
    try (PageStores stores = new PageStores(dir.resolve("stores"), new PageHashing())) {
      PageStore store = stores.openOrCreate("m").store();
      ProcessAreas areas = ProcessAreas.newBuilder().setPid(42)
          .addAreas(dev.ferry.proto.AddressRange.newBuilder().setStart(0x10000).setEnd(0x20000)).build();
      RoundWriter r1 = store.beginRound(1, List.of(areas));
      r1.apply(42, List.of(PageRun.newBuilder().setAddress(0x10000).setPages(3).build()), pages(3, 1));
      r1.apply(42, List.of(PageRun.newBuilder().setAddress(0x13000).setPages(1).setZero(true).build()), ByteBuffer.allocate(0));
      r1.apply(42, List.of(PageRun.newBuilder().setAddress(0x18000).setPages(1).build()), pages(1, 7));
      r1.commit(3, 5);
      RoundWriter r2 = store.beginRound(2, List.of(areas));
      r2.apply(42, List.of(PageRun.newBuilder().setAddress(0x11000).setPages(1).build()), pages(1, 2));
      r2.commit(1, 1);

      StoreParentPages parent = new StoreParentPages(store);
      ParentSnapshot s = parent.snapshot(Duration.ofSeconds(5));
      assertEquals(List.of(new AddressRange(0x10000, 0x14000), new AddressRange(0x18000, 0x19000)), s.processes().get(0).runs());

      new MinimalParentImages().writePages(dir.resolve("parent"), s, parent);
      ByteBuffer img = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("parent/pages-1.img")));
      assertEquals(5 * 4096, img.capacity());
      assertEquals(100, img.getInt(0));           // 0x10000 from round 1
      assertEquals(200, img.getInt(4096));        // 0x11000 rewritten in round 2
      assertEquals(102, img.getInt(2 * 4096));    // 0x12000 from round 1
      assertEquals(0, img.getInt(3 * 4096));      // 0x13000 zero page
      assertEquals(700, img.getInt(4 * 4096));    // 0x18000

      IOException e = assertThrows(IOException.class, () -> parent.copyTo(42, 0x15000, 1, java.nio.channels.Channels.newChannel(java.io.OutputStream.nullOutputStream())));
      assertEquals(true, e.getMessage().contains("lacks page 15000"), e.getMessage());
    }
  }
}
