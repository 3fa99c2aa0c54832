package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.PageSink;
import dev.ferry.agent.tracking.ProcessLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeldPagesTest {
  private static final long P = 4096;

  @Test
  void runsMergeAcrossRoundsAndZeroPagesCount() throws Exception {
    HeldPages held = new HeldPages();
    List<String> passed = new ArrayList<>();
    PageSink sink = held.recording(new PageSink() {
      @Override
      public void pages(int pid, long address, int pages, ByteBuffer data) {
        passed.add("pages " + pid + " " + Long.toHexString(address) + " " + pages);
      }

      @Override
      public void zeroPages(int pid, long address, int pages) {
        passed.add("zero " + pid + " " + Long.toHexString(address) + " " + pages);
      }
    });
    sink.pages(7, 0x10000, 2, ByteBuffer.allocate((int) (2 * P)));
    sink.zeroPages(7, 0x12000, 1);
    sink.pages(7, 0x20000, 1, ByteBuffer.allocate((int) P));
    sink.pages(7, 0x11000, 4, ByteBuffer.allocate((int) (4 * P))); // overlaps and bridges up to 0x15000
    sink.pages(7, 0x15000, 1, ByteBuffer.allocate((int) P)); // adjacent: merges
    assertEquals(List.of(new AddressRange(0x10000, 0x16000), new AddressRange(0x20000, 0x21000)), held.runs(7));
    assertEquals(7, held.pages());
    assertEquals(5, passed.size());
  }

  @Test
  void layoutDropsVanishedAreasAndProcesses() {
    HeldPages held = new HeldPages();
    held.add(7, 0x10000, 16); // 0x10000-0x20000
    held.add(7, 0x40000, 4);
    held.add(8, 0x1000, 1);
    // area 0x14000-0x18000 shrank the first run, the 0x40000 area vanished, pid 8 exited
    held.layout(List.of(new ProcessLayout(7,
        List.of(new AddressRange(0x8000, 0x12000), new AddressRange(0x14000, 0x18000), new AddressRange(0x50000, 0x60000)),
        List.of(new AddressRange(0x40000, 0x44000)), 0)));
    assertEquals(List.of(new AddressRange(0x10000, 0x12000), new AddressRange(0x14000, 0x18000)), held.runs(7));
    assertEquals(List.of(), held.runs(8));
    assertEquals(6, held.pages());
  }

  @Test
  void runsStayMergedAcrossAdjacentAreas() {
    HeldPages held = new HeldPages();
    held.add(7, 0x10000, 4);
    held.layout(List.of(new ProcessLayout(7,
        List.of(new AddressRange(0x10000, 0x12000), new AddressRange(0x12000, 0x14000)), List.of(), 0)));
    assertEquals(List.of(new AddressRange(0x10000, 0x14000)), held.runs(7));
  }
}
