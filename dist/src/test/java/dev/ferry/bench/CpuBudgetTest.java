package dev.ferry.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class CpuBudgetTest {
  @Test
  void ratioOnTwoCoresBoundsFerrysCpuPerGib() {
    // 2 GiB in 1 s (2.147 GB/s) with 1.0 CPU-s: 0.5 CPU-s per GiB; at ratio 0.8 a GiB may take
    // 1 / (0.8 x 2 GiB/s) = 0.625 s of wall, i.e. 1.25 CPU-s on two cores.
    CpuBudget b = new CpuBudget(2 * CpuBudget.GIB, 2.0 * CpuBudget.GIB, 1.0, 2);
    assertEquals(0.5, b.cSecondsPerGib(), 1e-9);
    assertEquals(1.25, b.ferrySecondsPerGibAt(0.8), 1e-9);
  }

  @Test
  void readsTheCPipelinesFigures() throws IOException {
    String line = "bytes=1073741824 seconds=0.404778 cpu_s=0.523477";
    assertEquals(0.404778, TransferBench.field(line, "seconds"), 1e-9);
    assertEquals(0.523477, TransferBench.field(line, "cpu_s"), 1e-9);
    assertThrows(IOException.class, () -> TransferBench.field("bytes=1 seconds=2", "cpu_s"));
  }
}
