package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.ferry.testkit.Await;
import io.grpc.Status;
import io.grpc.StatusException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The destination's switch-over steps around {@code criu restore} on this host, where CRIU cannot
 * run: the parent linked while the source dumps ({@link CriuRestores#prepare}), and the parent
 * check that runs alongside the restore and, when it fails, kills the stopped copy before any
 * reply. CRIU is replaced by a script that "restores" a real stopped process (it writes that
 * pid to CRIU's pid file): what is checked is Ferry's handling; the lab runs the real CRIU.
 */
class CriuRestoresTest {
  static final int PID = 4242;
  static final long BASE = 0x7f0000000000L;

  @TempDir Path dir;
  PageStore store;
  Process stopped;
  final ProcessTree processes = new ProcessTree();

  @BeforeEach
  void storeHolding16Pages() throws Exception {
    store = new PageStores(dir.resolve("stores"), new PageHashing(), true).openOrCreate("m-restore").store();
    RoundWriter r = store.beginRound(1, List.of(ProcessAreas.newBuilder().setPid(PID)
        .addAreas(AddressRange.newBuilder().setStart(BASE).setEnd(BASE + 64 * 4096)).build()));
    r.apply(PID, List.of(PageRun.newBuilder().setAddress(BASE).setPages(16).build()), ByteBuffer.allocateDirect(16 * 4096));
    r.commit(1, 16);
  }

  @AfterEach
  void stop() throws Exception {
    if (stopped != null) {
      stopped.destroyForcibly().waitFor();
    }
  }

  /**
   * A "criu" whose restore writes {@code pid} to the --pidfile it is given and exits 0, and whose
   * lazy-pages runs {@code lazyPages} (shell) in the dir it is started in.
   */
  private CriuCommand criuRestoring(long pid, String lazyPages) throws Exception {
    Path script = dir.resolve("fake-criu");
    Files.writeString(script, "#!/bin/sh\nif [ \"$1\" = lazy-pages ]; then " + lazyPages + "; fi\n"
        + "while [ $# -gt 0 ]; do [ \"$1\" = --pidfile ] && echo " + pid + " > \"$2\"; shift; done\nexit 0\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    return new CriuCommand(script, 2);
  }

  private void finalImages(int firstParentPage, int parentPages) throws Exception {
    Path fin = Restorer.finalDir(store.directory());
    Files.createDirectories(fin);
    new ImagePids(Map.of(PID, 1)).write(fin);
    CriuImageFile.write(fin.resolve("pagemap-1.img"), CriuMagic.PAGEMAP, List.of(PagemapHead.newBuilder().setPagesId(1).build(),
        PagemapEntry.newBuilder().setVaddr(BASE + firstParentPage * 4096L).setNrPages(parentPages).setFlags(1).build()));
  }

  private CriuRestores restores() throws Exception {
    return restores(new LazyPages.Unsupported("not here"), "exit 0");
  }

  private CriuRestores restores(LazyPages.Support lazy, String lazyPages) throws Exception {
    stopped = new ProcessBuilder("sleep", "600").redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(stopped.pid())).start().waitFor());
    Await.until("the stand-in copy is stopped", () -> processes.state((int) stopped.pid()).orElse("").equals("T"), Duration.ofSeconds(10));
    return new CriuRestores(new Restorer(criuRestoring(stopped.pid(), lazyPages), new MinimalParentImages(), processes,
        Duration.ofSeconds(60), List.of()).withLazyPages(lazy));
  }

  @Test
  void prepareLinksTheParentWhileTheSourceDumpsAndRestoreUsesIt() throws Exception {
    CriuRestores restores = restores();
    restores.prepare(store);
    Path link = store.directory().resolve("parent/pages-1.img");
    Await.until("the parent is linked in the background", () -> Files.isSymbolicLink(link), Duration.ofSeconds(10));
    finalImages(0, 16);
    assertEquals(stopped.pid(), restores.restore(store).getRestoredPid());
    assertEquals("T", processes.state((int) stopped.pid()).orElse("gone"), "restored copy left stopped until the commit");
    assertTrue(Files.exists(store.directory().resolve("parent/pagemap-1.img")), "parent pagemap named after the image pid");
  }

  @Test
  void aFailedParentCheckKillsTheStoppedCopyAndIsDataLoss() throws Exception {
    CriuRestores restores = restores();
    finalImages(8, 16); // pages 16..23 taken from the parent, but the store holds 0..15
    StatusException e = assertThrows(StatusException.class, () -> restores.restore(store));
    assertEquals(Status.Code.DATA_LOSS, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains(Long.toHexString(BASE + 16 * 4096)), e.getStatus().getDescription());
    Await.until("the restored copy is killed", () -> !stopped.isAlive(), Duration.ofSeconds(10));
    assertThrows(StatusException.class, () -> restores.resume("m-restore"), "nothing left to resume");
  }

  @Test
  void withLazyPagesTheDaemonListensFirstAndTheStoreWaitsUntilItHasServedEverything() throws Exception {
    Path served = dir.resolve("served");
    // the daemon: listens (its socket in its work dir), serves until told, then exits 0
    CriuRestores restores = restores(new LazyPages.Supported(),
        ": > " + LazyPages.SOCKET + "; while [ ! -e " + served + " ]; do sleep 0.05; done; exit 0");
    finalImages(0, 16);
    assertEquals(stopped.pid(), restores.restore(store).getRestoredPid());
    assertTrue(Files.exists(Restorer.finalDir(store.directory()).resolve(LazyPages.SOCKET)), "restore ran after the daemon listened");
    restores.resume("m-restore");
    Thread waiter = new Thread(() -> {
      try {
        restores.awaitPagesServed("m-restore", Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    waiter.start();
    waiter.join(300);
    assertTrue(waiter.isAlive(), "the store is kept while the daemon serves pages");
    Files.createFile(served);
    waiter.join(30_000);
    assertTrue(!waiter.isAlive(), "released once the daemon exited 0");
  }

  @Test
  void aDaemonThatCannotStartFailsTheRestoreBeforeAnyCopyIsMade() throws Exception {
    CriuRestores restores = restores(new LazyPages.Supported(), "echo no userfaultfd >&2; exit 3");
    finalImages(0, 16);
    StatusException e = assertThrows(StatusException.class, () -> restores.restore(store));
    assertEquals(Status.Code.ABORTED, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("lazy-pages"), e.getStatus().getDescription());
    assertFalse(Files.exists(store.directory().resolve(Restorer.PID_FILE)), "criu restore never ran");
  }

  @Test
  void theProbeIsATypedAnswerNotAnException() throws Exception {
    LazyPages.Support s = LazyPages.probe(new CriuCommand(Path.of("/nonexistent/criu"), 2), Duration.ofSeconds(10));
    assertTrue(s instanceof LazyPages.Unsupported u && u.reason().contains("/nonexistent/criu"), s.toString());
  }
}
