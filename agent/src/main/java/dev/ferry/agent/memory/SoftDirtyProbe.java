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

  /** A transparent huge page: soft-dirty is tracked per 2 MiB when one backs the probe page. */
  private static final int HUGE_PAGE = 2 * 1024 * 1024;

  private static final int ATTEMPTS = 3;

  /**
   * Runs the probe up to three times: a false "unavailable" is possible when something else
   * writes the probe page's huge page between clear_refs and the read; a false "available" is not
   * (a kernel without soft-dirty never sets bit 55).
   */
  public static SoftDirtySupport probe() {
    SoftDirtySupport result = probeOnce();
    for (int i = 1; i < ATTEMPTS && result instanceof SoftDirtySupport.Unavailable; i++) {
      result = probeOnce();
    }
    return result;
  }

  private static SoftDirtySupport probeOnce() {
    int self = (int) ProcessHandle.current().pid();
    // The probe page sits inside a whole 2 MiB-aligned region of its own buffer, advised against
    // huge pages: in the JVM's malloc heap a 4 KiB buffer shares its transparent huge page with
    // other threads' data, and their writes set bit 55 again right after clear_refs (seen in the
    // lab VM: "bit 55 stayed set").
    ByteBuffer region = AlignedBuffers.allocate(2 * HUGE_PAGE);
    long base = AlignedBuffers.address(region);
    long offset = (HUGE_PAGE - (base % HUGE_PAGE)) % HUGE_PAGE;
    LinuxLibc.madvise(base + offset, HUGE_PAGE, LinuxLibc.MADV_NOHUGEPAGE); // best effort
    ByteBuffer page = region.slice((int) offset, PageSize.BYTES);
    long address = base + offset;
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
