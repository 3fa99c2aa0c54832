package dev.ferry.agent.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Lz4JavaLibraryTest {
  @TempDir Path dir;

  @Test
  void nehalemGetsTheJavaCode() throws Exception {
    // The lab VM's -cpu Nehalem: no AVX, no BMI; the JNI library's self-test died with SIGILL there.
    Path cpuinfo = write("flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov"
        + " pat pse36 clflush mmx fxsr sse sse2 syscall nx lm rep_good nopl cpuid pni ssse3 cx16"
        + " sse4_1 sse4_2 x2apic popcnt hypervisor lahf_lm");
    assertFalse(Lz4JavaLibrary.cpuHasV3(cpuinfo));
  }

  @Test
  void haswellGetsTheNativeCode() throws Exception {
    Path cpuinfo = write("processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe"
        + " popcnt aes xsave avx f16c rdrand lahf_lm abm fsgsbase bmi1 avx2 smep bmi2 erms\n");
    assertEquals("amd64".equals(System.getProperty("os.arch")), Lz4JavaLibrary.cpuHasV3(cpuinfo));
  }

  @Test
  void unreadableCpuinfoMeansJava() {
    assertFalse(Lz4JavaLibrary.cpuHasV3(dir.resolve("missing")));
  }

  @Test
  void bothChoicesHashAlike() {
    byte[] page = new byte[4096];
    for (int i = 0; i < page.length; i++) {
      page[i] = (byte) (i * 31);
    }
    long java = net.jpountz.xxhash.XXHashFactory.fastestJavaInstance().hash64()
        .hash(page, 0, page.length, 7);
    assertEquals(java, Lz4JavaLibrary.xxhash().hash64().hash(page, 0, page.length, 7));
    assertTrue(java != 0);
  }

  private Path write(String text) throws Exception {
    Path p = dir.resolve("cpuinfo");
    Files.writeString(p, text);
    return p;
  }
}
