package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.memory.SoftDirtyProbe;
import dev.ferry.agent.memory.SoftDirtySupport;
import dev.ferry.proto.TrackerKind;
import org.junit.jupiter.api.Test;

/** The factory follows the probe; demanding soft-dirty where it is missing is a typed error. */
class TrackerFactoryTest {

  @Test
  void choosesFromTheProbe() throws Exception {
    try (PageChild child = PageChild.start(4)) {
      SoftDirtySupport missing = new SoftDirtySupport.Unavailable("test: no soft-dirty");
      try (PrecopySession s = PrecopySessions.open(child.pid(), missing, TrackerSettings.defaults())) {
        assertEquals(TrackerKind.CONTENT_HASH, s.kind());
        assertTrue(s.reason().contains("test: no soft-dirty"), s.reason());
      }
      TrackingException e = assertThrows(TrackingException.class, () -> PrecopySessions.open(child.pid(), missing,
          TrackerSettings.defaults().withChoice(TrackerSettings.Choice.SOFT_DIRTY)));
      assertEquals(TrackingException.Reason.UNSUPPORTED, e.reason());
      SoftDirtySupport present = new SoftDirtySupport.Available("test");
      try (PrecopySession s = PrecopySessions.open(child.pid(), present, TrackerSettings.defaults())) {
        assertEquals(TrackerKind.SOFT_DIRTY, s.kind());
      }
    }
  }

  @Test
  void probeAgreesWithTheKernelConfig() throws Exception {
    SoftDirtySupport p = SoftDirtyProbe.probe();
    System.out.println("soft-dirty probe on this kernel: " + p);
    assertTrue(!p.detail().isBlank());
    String config = kernelConfig();
    org.junit.jupiter.api.Assumptions.assumeTrue(config != null, "no kernel config to compare with");
    assertEquals(config.contains("CONFIG_MEM_SOFT_DIRTY=y"), p.available(), p.detail());
  }

  private static String kernelConfig() throws java.io.IOException {
    java.nio.file.Path gz = java.nio.file.Path.of("/proc/config.gz");
    if (java.nio.file.Files.exists(gz)) {
      try (var in = new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(gz))) {
        return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      }
    }
    String release = new String(new ProcessBuilder("uname", "-r").start().getInputStream().readAllBytes()).trim();
    java.nio.file.Path boot = java.nio.file.Path.of("/boot/config-" + release);
    return java.nio.file.Files.exists(boot) ? java.nio.file.Files.readString(boot) : null;
  }
}
