package dev.ferry.agent.tracking;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Chooses between lz4-java's JNI library and its pure-Java code. The bundled linux/amd64 library
 * is built for x86-64-v3 (objdump shows rorx, movbe, lzcnt, AVX2): on an older CPU (the lab VM's
 * emulated Nehalem, pre-2013 Xeons) its load-time self-test dies with SIGILL and takes the whole
 * agent with it. So the native code is used only when the CPU reports every x86-64-v3 feature;
 * otherwise the Java instances give the same hashes and the same compressed format, slower.
 */
public final class Lz4JavaLibrary {
  /**
   * x86-64-v3 as /proc/cpuinfo spells it, minus "abm" (lzcnt): some hypervisors hide that flag
   * (this project's AMD EPYC build machine does) although every CPU with BMI2 has lzcnt.
   */
  private static final Set<String> V3_FLAGS =
      Set.of("avx", "avx2", "bmi1", "bmi2", "fma", "f16c", "movbe");

  private static final class Choice {
    // Read once per JVM: the CPU does not change under a running process.
    static final boolean NATIVE = cpuHasV3(Path.of("/proc/cpuinfo"));
  }

  private Lz4JavaLibrary() {}

  /** Whether the JNI library can run on this CPU. */
  public static boolean nativeUsable() {
    return Choice.NATIVE;
  }

  public static XXHashFactory xxhash() {
    return nativeUsable() ? XXHashFactory.fastestInstance() : XXHashFactory.fastestJavaInstance();
  }

  public static LZ4Factory lz4() {
    return nativeUsable() ? LZ4Factory.fastestInstance() : LZ4Factory.fastestJavaInstance();
  }

  static boolean cpuHasV3(Path cpuinfo) {
    if (!"amd64".equals(System.getProperty("os.arch"))) {
      return false;
    }
    try {
      for (String line : Files.readAllLines(cpuinfo)) {
        if (line.startsWith("flags")) {
          int colon = line.indexOf(':');
          Set<String> flags = Set.of(line.substring(colon + 1).trim().split("\\s+"));
          return flags.containsAll(V3_FLAGS);
        }
      }
      return false;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
