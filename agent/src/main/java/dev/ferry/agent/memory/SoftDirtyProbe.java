package dev.ferry.agent.memory;

import dev.ferry.agent.tracking.TrackingException;
import java.nio.ByteBuffer;

/**
 * Probes kernel soft-dirty support on the agent's own process: write a page, clear_refs 4, check
 * bit 55 is clear, write again, check bit 55 is set. Writing clear_refs succeeds silently on a
 * kernel built without CONFIG_MEM_SOFT_DIRTY, so only reading the bit back tells.
 *
 * <p>Clearing the agent's own soft-dirty bits is harmless: nothing tracks the agent.
 */
public final class SoftDirtyProbe {
  private SoftDirtyProbe() {}

  public static SoftDirtySupport probe() {
    int self = (int) ProcessHandle.current().pid();
    ByteBuffer page = AlignedBuffers.allocate(PageSize.BYTES);
    long address = AlignedBuffers.address(page);
    try (PagemapReader pagemap = new PagemapReader(self, 1)) {
      page.putLong(0, 1);
      SoftDirtyBits.clear(self);
      long afterClear = pagemap.entry(address);
      if (!PagemapEntry.present(afterClear)) {
        return new SoftDirtySupport.Unavailable("probe page not present in /proc/self/pagemap");
      }
      if (PagemapEntry.softDirty(afterClear)) {
        return new SoftDirtySupport.Unavailable("bit 55 stayed set after writing 4 to /proc/self/clear_refs");
      }
      page.putLong(8, 2);
      long afterWrite = pagemap.entry(address);
      if (!PagemapEntry.softDirty(afterWrite)) {
        return new SoftDirtySupport.Unavailable(
            "pagemap bit 55 not set after a write (kernel without CONFIG_MEM_SOFT_DIRTY; clear_refs 4 is accepted silently)");
      }
      return new SoftDirtySupport.Available("pagemap bit 55 set after a write and cleared by clear_refs 4");
    } catch (TrackingException e) {
      return new SoftDirtySupport.Unavailable("probe failed: " + e.getMessage());
    }
  }
}
