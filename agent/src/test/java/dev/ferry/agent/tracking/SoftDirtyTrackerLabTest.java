package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.agent.memory.SoftDirtySupport;
import dev.ferry.proto.TrackerKind;
import dev.ferry.testkit.RequiresSoftDirty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The soft-dirty tracker against real processes: needs a kernel with CONFIG_MEM_SOFT_DIRTY (the
 * lab VM). Same contract as the hash tracker, plus the unmap/re-map case (new VMAs are marked
 * soft-dirty as a whole, so the new contents must be copied).
 */
@RequiresSoftDirty // tag "lab": skipped where soft-dirty is missing, fails in the lab (FERRY_LAB=1)
class SoftDirtyTrackerLabTest extends TrackerContract {
  private static SoftDirtySupport probe;

  @BeforeAll
  static void probe() {
    probe = SoftDirtyProbe.probe();
    System.out.println("soft-dirty probe: " + probe);
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
