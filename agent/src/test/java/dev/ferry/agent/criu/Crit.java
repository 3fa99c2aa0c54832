package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * CRIU's own image tool (crit, shipped with the criu package): an independent encoder/decoder to
 * check this package's image code against. Tests that need it are skipped where it is absent.
 */
final class Crit {
  static final Path EXE = Path.of("/usr/bin/crit");

  private Crit() {}

  static void assumePresent() {
    assumeTrue(Files.isExecutable(EXE), "crit (from the criu package) is not installed");
  }

  /** crit decode of an image file, as JSON text. */
  static String decode(Path image) throws IOException, InterruptedException {
    return run(List.of(EXE.toString(), "decode", "-i", image.toString()), null);
  }

  /** crit encode of JSON into an image file. */
  static void encode(String json, Path image) throws IOException, InterruptedException {
    run(List.of(EXE.toString(), "encode", "-o", image.toString()), json);
  }

  private static String run(List<String> cmd, String stdin) throws IOException, InterruptedException {
    Path out = Files.createTempFile("crit", ".out");
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
      if (stdin == null) {
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      }
      Process p = pb.start();
      if (stdin != null) {
        try (var in = p.getOutputStream()) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("crit timed out: " + cmd);
      }
      String text = Files.readString(out);
      if (p.exitValue() != 0) {
        throw new IOException("crit failed (" + p.exitValue() + "): " + text);
      }
      return text;
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
