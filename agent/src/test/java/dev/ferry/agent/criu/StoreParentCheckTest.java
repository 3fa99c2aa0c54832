package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.criu.image.CriuImageFile;
import dev.ferry.agent.criu.image.CriuMagic;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.proto.AddressRange;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guard of a restore from the store's layout: every page the final dump takes from the parent
 * must be held, else the restore would read zeros (the layout's holes) for it. A real store
 * with committed rounds, a final pagemap written in CRIU's framing.
 */
class StoreParentCheckTest {
  static final int PID = 4242;
  static final int IMAGE_PID = 1;
  static final long BASE = 0x7f0000000000L;
  static final int PE_PARENT = 1, PE_LAZY = 2, PE_PRESENT = 4;

  @TempDir Path dir;
  PageStore store;
  Path fin;

  @BeforeEach
  void storeHoldingPages0To15() throws Exception {
    store = new PageStores(dir.resolve("stores"), new PageHashing(), true).openOrCreate("m").store();
    RoundWriter r = store.beginRound(1, List.of(ProcessAreas.newBuilder().setPid(PID)
        .addAreas(AddressRange.newBuilder().setStart(BASE).setEnd(BASE + 64 * 4096)).build()));
    ByteBuffer data = ByteBuffer.allocateDirect(16 * 4096);
    for (int i = 0; i < data.capacity(); i++) {
      data.put(i, (byte) (i / 4096 + 1));
    }
    r.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(16).build()), data);
    r.commit(1, 16);
    fin = dir.resolve("final");
    Files.createDirectories(fin);
    new ImagePids(Map.of(PID, IMAGE_PID)).write(fin);
  }

  private void finalPagemap(PagemapEntry... entries) throws Exception {
    List<com.google.protobuf.MessageLite> all = new ArrayList<>();
    all.add(PagemapHead.newBuilder().setPagesId(1).build());
    all.addAll(List.of(entries));
    CriuImageFile.write(fin.resolve("pagemap-" + IMAGE_PID + ".img"), CriuMagic.PAGEMAP, all);
  }

  private static PagemapEntry e(long page, int n, int flags) {
    return PagemapEntry.newBuilder().setVaddr(BASE + page * 4096).setNrPages(n).setFlags(flags).build();
  }

  @Test
  void passesWhenEveryParentPageIsHeld() throws Exception {
    finalPagemap(e(0, 3, PE_PARENT), e(3, 1, PE_PRESENT | PE_LAZY), e(4, 12, PE_PARENT),
        e(40, 5, PE_PRESENT)); // dumped pages need not be held
    new StoreParent(store).checkFinal(fin);
  }

  @Test
  void failsNamingTheFirstPageTheStoreLacks() throws Exception {
    finalPagemap(e(0, 3, PE_PARENT), e(10, 8, PE_PARENT));
    CriuFailure f = assertThrows(CriuFailure.class, () -> new StoreParent(store).checkFinal(fin));
    assertEquals(io.grpc.Status.Code.DATA_LOSS, f.toStatus().getCode());
    assertTrue(f.getMessage().contains(Long.toHexString(BASE + 16 * 4096)), f.getMessage());
    assertTrue(f.getMessage().contains("pid " + PID), f.getMessage());
  }

  @Test
  void theOldInParentFieldCountsToo() throws Exception {
    finalPagemap(PagemapEntry.newBuilder().setVaddr(BASE + 20 * 4096).setNrPages(1).setInParent(true).build());
    assertThrows(CriuFailure.class, () -> new StoreParent(store).checkFinal(fin));
  }

  @Test
  void aTruncatedPagemapIsBadOutput() throws Exception {
    finalPagemap(e(0, 3, PE_PARENT), e(4, 2, PE_PARENT));
    Path pm = fin.resolve("pagemap-" + IMAGE_PID + ".img");
    byte[] b = Files.readAllBytes(pm);
    Files.write(pm, java.util.Arrays.copyOf(b, b.length - 3));
    CriuFailure f = assertThrows(CriuFailure.class, () -> new StoreParent(store).checkFinal(fin));
    assertEquals(CriuFailure.Reason.BAD_OUTPUT, f.reason());
    assertTrue(f.getMessage().contains("truncated"), f.getMessage());
  }
}
