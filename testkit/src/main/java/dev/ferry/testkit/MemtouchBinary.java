package dev.ferry.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The compiled {@code ferry-memtouch} workload. Its C source ships inside this jar (copied
 * from {@code deploy/workload/ferry-memtouch.c} by the build); it is compiled with the
 * machine's {@code gcc} once per source version into a cache directory keyed by the source's
 * hash, so every JVM (host tests, lab tests, the demo) shares one binary.
 *
 * <p>Cache directory, first that is set: system property {@code ferry.cache.dir}, env
 * {@code FERRY_CACHE_DIR}, {@code <ferry.repo.root>/target/ferry-cache} (set by surefire; shared
 * read-write with the lab VM), {@code ~/.cache/ferry}. Concurrent JVMs may compile at once: each
 * writes a private temp file and renames it into place atomically.
 */
public final class MemtouchBinary {
    static final String SOURCE_RESOURCE = "/dev/ferry/testkit/ferry-memtouch.c";
    private static final Duration COMPILE_DEADLINE = Duration.ofSeconds(120);

    private final Path executable;

    private MemtouchBinary(Path executable) {
        this.executable = executable;
    }

    /** The binary for the current source, compiling it if the cache has none. */
    public static MemtouchBinary locate() {
        return locate(defaultCacheDir());
    }

    public static MemtouchBinary locate(Path cacheDir) {
        byte[] source = source();
        String key = sha256(source).substring(0, 16);
        Path dir = cacheDir.resolve("memtouch-" + key);
        Path exe = dir.resolve("ferry-memtouch");
        if (Files.isExecutable(exe)) {
            return new MemtouchBinary(exe);
        }
        try {
            Files.createDirectories(dir);
            Path src = dir.resolve("ferry-memtouch.c");
            Path tmpSrc = Files.createTempFile(dir, "src", ".c");
            Files.write(tmpSrc, source);
            Files.move(tmpSrc, src, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Path tmpExe = Files.createTempFile(dir, "ferry-memtouch", ".tmp");
            Path log = Files.createTempFile(dir, "gcc", ".log");
            List<String> cmd = List.of("gcc", "-O2", "-Wall", "-o", tmpExe.toString(), src.toString());
            Process gcc;
            try {
                gcc = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot build ferry-memtouch: gcc not found (apt-get install gcc): " + e.getMessage(), e);
            }
            if (!gcc.waitFor(COMPILE_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                gcc.destroyForcibly();
                throw new IllegalStateException("gcc did not finish compiling ferry-memtouch within " + COMPILE_DEADLINE);
            }
            String output = Files.readString(log);
            Files.deleteIfExists(log);
            if (gcc.exitValue() != 0) {
                Files.deleteIfExists(tmpExe);
                throw new IllegalStateException("gcc failed to compile ferry-memtouch (exit " + gcc.exitValue() + "): " + output);
            }
            Files.move(tmpExe, exe, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new MemtouchBinary(exe);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build ferry-memtouch in " + dir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while compiling ferry-memtouch", e);
        }
    }

    /** Builds (if needed) and prints the binary's path: {@code deploy/lab/run-lab-tests} and bin/ use it. */
    public static void main(String[] args) {
        System.out.println(locate().executable());
    }

    public Path executable() {
        return executable;
    }

    public static Path defaultCacheDir() {
        String p = System.getProperty("ferry.cache.dir");
        if (p == null || p.isBlank()) {
            p = System.getenv("FERRY_CACHE_DIR");
        }
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        String root = System.getProperty("ferry.repo.root");
        if (root != null && !root.isBlank() && Files.isDirectory(Path.of(root))) {
            return Path.of(root, "target", "ferry-cache");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "ferry");
    }

    static byte[] source() {
        try (InputStream in = MemtouchBinary.class.getResourceAsStream(SOURCE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + SOURCE_RESOURCE + " missing from the testkit jar (build with mvn)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return executable.toString();
    }

}
