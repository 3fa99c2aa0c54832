package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Areas backed by transparent huge pages are counted in the layout (2 MiB-granular soft-dirty). */
class HugePagesTest {

  @Test
  void thpBackedAreaIsReported() throws Exception {
    String mode = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
    Assumptions.assumeFalse(mode.contains("[never]"), "THP disabled on this kernel");
    try (PageChild plain = PageChild.start(1024); PageChild huge = PageChild.start(1024, true);
        PrecopySession p = new ContentHashSession(plain.pid(), TrackerSettings.defaults(), "test");
        PrecopySession h = new ContentHashSession(huge.pid(), TrackerSettings.defaults(), "test")) {
      assertEquals(0, p.capture().processes().get(0).thpAreas(), "MADV_NOHUGEPAGE region, small process");
      int thp = h.capture().processes().get(0).thpAreas();
      assertEquals(1, thp, "the MADV_HUGEPAGE region (4 MiB, 2 MiB aligned) is THP-backed");
    }
  }
}
