package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.testkit.RequiresCriu;
import dev.ferry.testkit.RequiresSoftDirty;
import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.PrecopySessions;
import dev.ferry.agent.tracking.TrackerSettings;
import dev.ferry.agent.transfer.PageHashing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The switch-over through CRIU on a real kernel with soft-dirty (the lab VM), both "agents" in
 * one JVM: the memtouch workload in its own pid namespace, soft-dirty pre-copy rounds into a
 * store, parent images for what the store holds, criu dump --track-mem --prev-images-dir
 * --leave-stopped, restore from the store while the source copy is still stopped, resume, kill
 * the source; the workload goes on with intact memory. And the rollbacks.
 */
@RequiresCriu
@RequiresSoftDirty
class SwitchoverLabTest {
  @TempDir Path dir;
  private final ProcessTree processes = new ProcessTree();
  private final Checkpointer checkpointer =
      new Checkpointer(CriuCommand.onPath(), new MinimalParentImages(), processes, LabWorkload.scaled(Duration.ofSeconds(60)), List.of());
  private final Restorer restorer =
      new Restorer(CriuCommand.onPath(), new MinimalParentImages(), processes, LabWorkload.scaled(Duration.ofSeconds(60)), List.of());
  private LabWorkload workload;
  private Optional<ProcessTree.Identity> restored = Optional.empty();
  private Optional<LazyPages.Daemon> daemon = Optional.empty();

  @BeforeAll
  static void criuWorks() throws InterruptedException {
    CriuStatus s = new CriuProbe(CriuCommand.onPath(), LabWorkload.scaled(Duration.ofSeconds(60))).probe();
    assertTrue(s.usable(), "the lab needs a working CRIU: " + s.describe());
  }

  private PageStores stores;
  private PrecopySession session;
  private PageStore store;

  /** The engine's soft-dirty session into a real page store (what the destination agent keeps). */
  private LocalPrecopy precopy(int pid) throws Exception {
    session = PrecopySessions.open(pid, SoftDirtyProbe.probe(), TrackerSettings.defaults().withChoice(TrackerSettings.Choice.SOFT_DIRTY));
    stores = new PageStores(dir.resolve("stores"), new PageHashing(), true);
    store = stores.openOrCreate("m1").store();
    return new LocalPrecopy(session, store);
  }

  @AfterEach
  void cleanUp() {
    if (session != null) {
      session.close();
    }
    if (stores != null) {
      stores.close();
    }
    restored.ifPresent(processes::kill);
    daemon.ifPresent(LazyPages.Daemon::close);
    if (workload != null) {
      workload.close();
    }
  }

  @Test
  void switchOverAfterPrecopyKeepsMemoryIntactAndUsesTheParent() throws Exception {
    workload = LabWorkload.start(dir.resolve("w"), 64, 2000);
    int pid = workload.pid();
    LocalPrecopy rounds = precopy(pid);
    for (int i = 0; i < 3; i++) {
      System.out.println("round " + rounds.round());
    }
    ParentSnapshot snapshot = rounds.held().snapshot(BootClock.uptime());
    java.time.Instant beforeDump = java.time.Instant.now();
    Checkpointer.Result cp = checkpointer.checkpoint(pid, dir.resolve("src"), snapshot);
    System.out.println("checkpoint " + cp);
    assertTrue(cp.parentUsed(), cp.detail());
    // the downtime starts at CRIU's freeze, seen in /proc while criu ran, after its start-up
    assertTrue(cp.beforeFreeze().compareTo(Duration.ZERO) > 0, "CRIU's freeze was seen: " + cp.beforeFreeze());
    assertTrue(cp.beforeFreeze().compareTo(cp.dumpTime()) < 0, cp.beforeFreeze() + " within the dump " + cp.dumpTime());
    assertTrue(cp.freezeStarted().isAfter(beforeDump), "freeze " + cp.freezeStarted() + " after the call " + beforeDump);
    assertTrue(cp.stats().pagesWritten() < snapshot.processes().get(0).pages(), "final dump smaller than the memory: " + cp.stats());
    assertEquals("T", processes.state(pid).orElse("gone"), "source left stopped");

    Path dst = dir.resolve("dst");
    ParentSnapshot held = new StoreParentPages(store).snapshot(snapshot.dumpUptime());
    assertEquals(snapshot.processes().get(0).runs(), held.processes().get(0).runs(), "the source's record = the store");
    // the store's own layout by address, kept current round by round, is the parent: nothing copied
    StoreParent parent = new StoreParent(store);
    long linkStart = System.nanoTime();
    ParentSnapshot inStore = parent.link(dst.resolve("parent"), snapshot.dumpUptime());
    copyFinal(cp.finalDir(), Restorer.finalDir(dst));
    parent.checkFinal(Restorer.finalDir(dst));
    Duration prepare = Duration.ofNanos(System.nanoTime() - linkStart);
    assertTrue(Files.isSymbolicLink(dst.resolve("parent/pages-1.img")), "parent pages linked, not copied");
    long okBefore = workload.lastOkCounter();
    Restorer.Result r = restorer.restore(dst, inStore);
    restored = Optional.of(r.restored());
    System.out.println("restore " + r + " parent linked and checked in " + prepare);
    assertNotEquals(pid, r.restored().pid(), "a namespace init is restored under a new outer pid");
    assertEquals("T", processes.state(r.restored().pid()).orElse("gone"), "restored copy left stopped");
    assertEquals("T", processes.state(pid).orElse("gone"), "source still stopped: never two running copies");
    assertEquals(okBefore, workload.lastOkCounter(), "nothing ran between the dump and the resume");

    assertTrue(restorer.resume(r.restored()));
    assertTrue(checkpointer.kill(cp.dumped()));
    long after = workload.awaitOkBeyond(okBefore + 2, Duration.ofSeconds(60));
    assertTrue(after > okBefore + 2);
    assertFalse(processes.alive(cp.dumped()), "source copy gone");
    assertTrue(processes.alive(r.restored()), "restored copy runs on");
  }

  @Test
  void aDumpCriuRejectsResumesTheSourceWithCriusReason() throws Exception {
    workload = LabWorkload.start(dir.resolve("w"), 16, 500);
    int pid = workload.pid();
    precopy(pid).round();
    // A parent that holds nothing although the round cleared soft-dirty: CRIU refuses it.
    ParentSnapshot empty = new ParentSnapshot(BootClock.uptime(),
        List.of(new ParentSnapshot.Process(pid, ProcessTree.innermostPid(pid).orElseThrow(), List.of())));
    long okBefore = workload.lastOkCounter();
    CriuFailure f = assertThrows(CriuFailure.class, () -> checkpointer.checkpoint(pid, dir.resolve("src"), empty));
    System.out.println("expected failure: " + f.describe());
    assertEquals(CriuFailure.Reason.FAILED, f.reason());
    assertTrue(f.logTail().contains("parent"), f.logTail());
    workload.awaitOkBeyond(okBefore + 1, Duration.ofSeconds(60));
    assertNotEquals("T", processes.state(pid).orElse("gone"));
  }

  @Test
  void rollbackAfterRestoreDiscardsTheCopyAndResumesTheSource() throws Exception {
    workload = LabWorkload.start(dir.resolve("w"), 16, 500);
    int pid = workload.pid();
    LocalPrecopy rounds = precopy(pid);
    rounds.round();
    rounds.round();
    ParentSnapshot snapshot = rounds.held().snapshot(BootClock.uptime());
    Checkpointer.Result cp = checkpointer.checkpoint(pid, dir.resolve("src"), snapshot);
    Path dst = dir.resolve("dst");
    StoreParent parent = new StoreParent(store);
    ParentSnapshot inStore = parent.link(dst.resolve("parent"), snapshot.dumpUptime());
    copyFinal(cp.finalDir(), Restorer.finalDir(dst));
    parent.checkFinal(Restorer.finalDir(dst));
    Restorer.Result r = restorer.restore(dst, inStore);
    restored = Optional.of(r.restored());
    long okBefore = workload.lastOkCounter();

    // no commit: roll back
    restorer.discard(restored, dst);
    assertTrue(checkpointer.resume(cp.dumped()));
    assertFalse(Files.exists(dst));
    workload.awaitOkBeyond(okBefore + 1, Duration.ofSeconds(60));
    assertTrue(processes.alive(cp.dumped()), "source runs on");
    assertFalse(processes.alive(r.restored()), "restored copy killed");
    assertFalse(checkpointer.resume(cp.dumped()), "resuming again is a no-op");
  }

  /**
   * The restore as the agent does it (CriuRestores): parent linked to the store's layout, final
   * images copied, then {@link Restorer#restoreChecked} with lazy pages where CRIU supports them,
   * which tries the flat top layer first. Resumes the restored copy and kills the source.
   */
  private Restorer.Result switchOver(int pid, LocalPrecopy rounds) throws Exception {
    ParentSnapshot snapshot = rounds.held().snapshot(BootClock.uptime());
    Checkpointer.Result cp = checkpointer.checkpoint(pid, dir.resolve("src"), snapshot);
    System.out.println("checkpoint " + cp);
    assertTrue(cp.parentUsed(), cp.detail());
    Path dst = dir.resolve("dst");
    StoreParent parent = new StoreParent(store);
    ParentSnapshot inStore = parent.link(dst.resolve("parent"), snapshot.dumpUptime());
    copyFinal(cp.finalDir(), Restorer.finalDir(dst));
    LazyPages.Support lazy = LazyPages.probe(CriuCommand.onPath(), LabWorkload.scaled(Duration.ofSeconds(60)));
    System.out.println("lazy pages: " + lazy);
    long okBefore = workload.lastOkCounter();
    Restorer.Checked c = restorer.withLazyPages(lazy).restoreChecked(dst, inStore, parent, "parent-check");
    Restorer.Result r = c.result();
    restored = Optional.of(r.restored());
    daemon = r.lazyPages();
    System.out.println("restore " + r + ": " + r.layering().describe() + "; " + restoreStats(r.imagesDir()));
    assertEquals("T", processes.state(r.restored().pid()).orElse("gone"), "restored copy left stopped");
    assertEquals(okBefore, workload.lastOkCounter(), "nothing ran between the dump and the resume");
    assertTrue(restorer.resume(r.restored()));
    assertTrue(checkpointer.kill(cp.dumped()));
    workload.awaitOkBeyond(okBefore + 2, Duration.ofSeconds(60));
    if (r.lazyPages().isPresent()) {
      LazyPages.Daemon d = r.lazyPages().get();
      assertTrue(d.awaitServed(LabWorkload.scaled(Duration.ofSeconds(120))), "lazy pages served: " + d.logTail());
      assertEquals(0, d.exitCode(), d.logTail());
      // a whole-memory check that started after the last page was copied in
      long served = workload.lastOkCounter();
      workload.awaitOkBeyond(served + 1, Duration.ofSeconds(60));
    }
    assertTrue(processes.alive(r.restored()), "restored copy runs on");
    return r;
  }

  @Test
  void aFlatTopLayerRestoresTheWholeMemoryIntact() throws Exception {
    workload = LabWorkload.start(dir.resolve("w"), 64, 2000);
    int pid = workload.pid();
    LocalPrecopy rounds = precopy(pid);
    for (int i = 0; i < 3; i++) {
      System.out.println("round " + rounds.round());
    }
    Restorer.Result r = switchOver(pid, rounds);
    assertTrue(r.layering().flat(), "memtouch's final dump fits the held layout: " + r.layering().describe());
    assertEquals(dir.resolve("dst").resolve(FlatTop.DIR), r.imagesDir());
  }

  @Test
  void aHeldPageTheDumpNoLongerHasInAFileMappingFallsBackToTheParentIntact() throws Exception {
    // maps a new block every 20 ms and unmaps old ones (pages no round saw), and has a written
    // page of a private file mapping that it drops after the rounds: the store holds the written
    // copy, the final dump does not list the page (it reads the file again), so a flat layer
    // would bring the stale copy back (the workload would say CORRUPT): the parent path it is
    workload = LabWorkload.startGrowing(dir.resolve("w"));
    int pid = workload.pid();
    LocalPrecopy rounds = precopy(pid);
    for (int i = 0; i < 2; i++) {
      System.out.println("round " + rounds.round());
    }
    workload.dropPrivatePage(Duration.ofSeconds(30));
    Restorer.Result r = switchOver(pid, rounds);
    assertFalse(r.layering().flat(), r.layering().describe());
    assertTrue(r.layering().detail().startsWith("fallback: ") && r.layering().detail().contains("not private anonymous"),
        r.layering().detail());
    assertEquals(Restorer.finalDir(dir.resolve("dst")), r.imagesDir());
  }

  /** CRIU's stats-restore of {@code dir}, for the log. */
  static String restoreStats(Path dir) throws java.io.IOException {
    Path f = dir.resolve("stats-restore");
    if (!Files.exists(f)) {
      return "no stats-restore";
    }
    var image = dev.ferry.agent.criu.image.CriuImageFile.read(f);
    var st = dev.ferry.agent.criu.image.CriuImageFile.entry(image, 0, dev.ferry.proto.criu.StatsEntry.parser()).getRestore();
    return "criu restore_time " + Integer.toUnsignedLong(st.getRestoreTime()) / 1000 + " ms, pages restored " + st.getPagesRestored();
  }

  /** What the PushImages stream does between the agents. */
  static void copyFinal(Path from, Path to) throws java.io.IOException {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Checkpointer.travels(f)) {
          Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
