package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.agent.memory.SoftDirtySupport;
import dev.ferry.proto.TrackerKind;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The soft-dirty tracker against real processes: needs a kernel with CONFIG_MEM_SOFT_DIRTY (the
 * lab VM). Same contract as the hash tracker, plus the unmap/re-map case (new VMAs are marked
 * soft-dirty as a whole, so the new contents must be copied).
 */
@Tag("lab")
class SoftDirtyTrackerLabTest extends TrackerContract {
  private static SoftDirtySupport probe;

  @BeforeAll
  static void probe() {
    probe = SoftDirtyProbe.probe();
    System.out.println("soft-dirty probe: " + probe);
    // In the lab (-Dferry.lab=true) a missing soft-dirty fails the tests; elsewhere they skip.
    if (!Boolean.getBoolean("ferry.lab")) {
      Assumptions.assumeTrue(probe.available(), "needs a kernel with soft-dirty (CONFIG_MEM_SOFT_DIRTY): " + probe.detail());
    }
  }

  @Override
  PrecopySession open(int pid) throws TrackingException {
    // The VM emulates its CPU on a shared host: a stopped thread may take seconds to be seen T.
    TrackerSettings lab = new TrackerSettings(TrackerSettings.Choice.SOFT_DIRTY, TrackerSettings.DEFAULT_COPY_BUFFER,
        java.time.Duration.ofSeconds(60));
    return PrecopySessions.open(pid, probe, lab);
  }

  @Override
  int stressPages() {
    return 2048; // the VM emulates the CPU: keep the copy small
  }

  @Test
  void probeFindsSoftDirtyAndTheFactoryPicksIt() throws Exception {
    assertTrue(probe.available(), "this lab kernel must have soft-dirty: " + probe.detail());
    try (PageChild child = PageChild.start(16); PrecopySession s = open(child.pid())) {
      assertEquals(TrackerKind.SOFT_DIRTY, s.kind());
      CapturedRound r = s.capture();
      assertTrue(r.freezeWindow().toNanos() > 0, "a soft-dirty round freezes");
      System.out.println("freeze window of a small process in the VM: " + r.freezeWindow());
    }
  }
}
