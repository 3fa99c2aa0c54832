package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.MessageLite;
import dev.ferry.agent.criu.image.CriuImageFile;
import dev.ferry.agent.criu.image.CriuMagic;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.proto.AddressRange;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.criu.CoreEntry;
import dev.ferry.proto.criu.MmEntry;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import dev.ferry.proto.criu.ThreadInfoX86;
import dev.ferry.proto.criu.UserX86RegsEntry;
import dev.ferry.proto.criu.VmaEntry;
import dev.ferry.testkit.Await;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Restorer#withRestoreAhead}: criu restore started in flat/ while the flat layer is built
 * and released only once it is built; aborted (never past its hold) when the restore falls back to
 * the parent. The stand-in "criu" runs its action script as CRIU does and logs, for each restore
 * that got past pre-restore, its image dir and whether the pagemap was there at that moment.
 */
class RestorerAheadTest {
  static final int PID = 4242;
  static final long P = 4096;
  static final long BASE = 0x7f0000000000L;

  @TempDir Path dir;
  PageStores stores;
  PageStore store;
  Path fin;
  Path log;
  Process stopped;
  final ProcessTree processes = new ProcessTree();

  @BeforeEach
  void storeAndStoppedCopy() throws Exception {
    stores = new PageStores(dir.resolve("stores"), new PageHashing(), true);
    store = stores.openOrCreate("m").store();
    RoundWriter r = store.beginRound(1, List.of(ProcessAreas.newBuilder().setPid(PID)
        .addAreas(AddressRange.newBuilder().setStart(BASE).setEnd(BASE + 64 * P)).build()));
    r.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(16).build()), ByteBuffer.allocateDirect(16 * (int) P));
    r.commit(1, 16);
    fin = Restorer.finalDir(store.directory());
    Files.createDirectories(fin);
    new ImagePids(Map.of(PID, 1)).write(fin);
    Files.writeString(fin.resolve("pstree.img"), "not read by Ferry");
    CriuImageFile.write(fin.resolve("core-1.img"), CriuMagic.CORE, List.of(CoreEntry.newBuilder().setMtype(1)
        .setThreadInfo(ThreadInfoX86.newBuilder().setGpregs(UserX86RegsEntry.newBuilder().setSp(BASE + 0x10))).build()));
    List<MessageLite> pagemap = List.of(PagemapHead.newBuilder().setPagesId(1).build(),
        PagemapEntry.newBuilder().setVaddr(BASE).setNrPages(2).setFlags(1).build(),
        PagemapEntry.newBuilder().setVaddr(BASE + 2 * P).setNrPages(1).setFlags(4).build(),
        PagemapEntry.newBuilder().setVaddr(BASE + 3 * P).setNrPages(12).setFlags(1).build()); // page 15 no longer dumped
    CriuImageFile.write(fin.resolve("pagemap-1.img"), CriuMagic.PAGEMAP, pagemap);
    Files.write(fin.resolve("pages-1.img"), new byte[(int) P]);
    Files.createSymbolicLink(fin.resolve("parent"), Path.of("..", "parent"));

    stopped = new ProcessBuilder("sleep", "600").redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(stopped.pid())).start().waitFor());
    Await.until("the stand-in copy is stopped", () -> processes.state((int) stopped.pid()).orElse("").equals("T"), Duration.ofSeconds(10));
    log = dir.resolve("criu.log");
  }

  @AfterEach
  void stop() throws Exception {
    stopped.destroyForcibly().waitFor();
    stores.close();
  }

  /** The final dump's VMAs: {@code end} is where the one anonymous private VMA ends. */
  void vmaUpTo(long end) throws Exception {
    CriuImageFile.write(fin.resolve("mm-1.img"), CriuMagic.MM, List.of(MmEntry.newBuilder()
        .addVmas(VmaEntry.newBuilder().setStart(BASE).setEnd(end).setFlags(0x22).setStatus(1 | (1 << 9)).setFd(-1)).build()));
  }

  Restorer restorer() throws Exception {
    Path script = dir.resolve("fake-criu");
    Files.writeString(script, """
        #!/bin/sh
        pidfile=; action=; d=
        while [ $# -gt 0 ]; do
          case "$1" in --pidfile) pidfile=$2; shift;; --action-script) action=$2; shift;; -D) d=$2; shift;; esac; shift
        done
        if [ -n "$action" ]; then
          CRTOOLS_SCRIPT_ACTION=pre-restore sh -c "$action" || { echo "$d aborted" >> %1$s; exit 1; }
        fi
        if [ -e "$d/pagemap-1.img" ]; then echo "$d pagemap" >> %1$s; else echo "$d none" >> %1$s; fi
        echo %2$d > "$pidfile"
        exit 0
        """.formatted(log, stopped.pid()));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    return new Restorer(new CriuCommand(script, 2), new MinimalParentImages(), processes, Duration.ofSeconds(60), List.of())
        .withRestoreAhead(true);
  }

  Restorer.Checked restore(Restorer restorer) throws Exception {
    StoreParent parent = new StoreParent(store);
    ParentSnapshot held = parent.link(store.directory().resolve("parent"), Duration.ZERO);
    return restorer.restoreChecked(store.directory(), held, parent, "check");
  }

  List<String> logged() {
    try {
      return Files.exists(log) ? Files.readAllLines(log) : List.of();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void theRestoreStartedAheadGoesOnOnlyOnceTheFlatLayerIsBuilt() throws Exception {
    vmaUpTo(BASE + 64 * P);
    Restorer.Checked c = restore(restorer());
    assertTrue(c.result().layering().flat(), c.result().layering().describe());
    assertEquals(stopped.pid(), c.result().restored().pid());
    Path flat = store.directory().resolve(FlatTop.DIR);
    assertEquals(List.of(flat + " pagemap"), logged(), "one restore, in flat/, past its hold only with the pagemap written");
    List<String> steps = new ArrayList<>();
    c.result().steps().steps().forEach(s -> steps.add(s.name()));
    assertTrue(steps.containsAll(List.of("prepare", "build", "ahead wait", "release", "criu")), steps.toString());
  }

  @Test
  void aFallbackAbortsTheRestoreHeldInFlatAndRestoresThroughTheParent() throws Exception {
    vmaUpTo(BASE + 15 * P); // held page 15, not dumped, outside every VMA: no flat layer
    Restorer.Checked c = restore(restorer());
    assertFalse(c.result().layering().flat(), c.result().layering().describe());
    Path flat = store.directory().resolve(FlatTop.DIR);
    Await.until("the held restore in flat/ is aborted", () -> logged().contains(flat + " aborted"), Duration.ofSeconds(30));
    List<String> past = new ArrayList<>(logged());
    past.remove(flat + " aborted");
    assertEquals(List.of(fin + " pagemap"), past, "only the parent path's restore got past pre-restore");
  }
}
