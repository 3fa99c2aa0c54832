package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.transfer.PageTable;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CRIU parent built from the source's ledger (what the destination acknowledged holding). */
class CriuCheckpointsTest {
  private static final long PAGE = 4096;

  @Test
  void theLedgerBecomesMergedSortedRunsPerPidWithTheImagePid() throws IOException {
    int self = (int) ProcessHandle.current().pid();
    PageTable ledger = new PageTable(false);
    // pages 0x10000..0x12fff, a hole, 0x14000; and a run across a 2 MiB chunk boundary
    for (long a : new long[] {0x12000, 0x10000, 0x11000, 0x14000, 0x1ff000, 0x200000}) {
      ledger.put(self, a, a | 1, 0);
    }
    ParentSnapshot s = CriuCheckpoints.snapshot(ledger, Duration.ofSeconds(42));
    assertEquals(Duration.ofSeconds(42), s.dumpUptime());
    assertEquals(1, s.processes().size());
    ParentSnapshot.Process p = s.processes().get(0);
    assertEquals(self, p.pid());
    assertEquals(ProcessTree.innermostPid(self).orElseThrow(), p.imagePid());
    assertEquals(List.of(new AddressRange(0x10000, 0x13000), new AddressRange(0x14000, 0x15000),
        new AddressRange(0x1ff000, 0x201000)), p.runs());
    assertEquals(6, p.pages());
    assertEquals(6 * PAGE, p.runs().stream().mapToLong(AddressRange::bytes).sum());
  }

  @Test
  void aVanishedProcessIsAnErrorNamingIt() {
    PageTable ledger = new PageTable(false);
    ledger.put(4_194_000, 0x1000, 7, 0); // above the largest pid_max: no such process
    IOException e = assertThrows(IOException.class, () -> CriuCheckpoints.snapshot(ledger, Duration.ofSeconds(1)));
    assertEquals("process 4194000 vanished before the checkpoint", e.getMessage());
  }
}
