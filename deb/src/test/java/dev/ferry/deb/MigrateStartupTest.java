package dev.ferry.deb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The migrate CLI's start-up logic (bin/.migrate-startup, packaged as
 * /usr/share/ferry/migrate-startup.sh) run by POSIX sh as both launchers run it, with a stub
 * java that records its arguments and "archives" by writing the file it is asked to.
 */
class MigrateStartupTest {
    private static final String C1 = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

    /** Sources the helper in sh, calls it, prints the two results on two lines. */
    private static List<String> startup(Path java, Path jar, Path home, String cds, String... mode) throws Exception {
        Path helper = Commands.repoRoot().resolve("bin/.migrate-startup");
        String script = "FERRY_CDS=" + cds + "; HOME=" + home + "; unset XDG_CACHE_HOME; . " + helper
                + "; migrate_startup " + java + " " + jar + " " + String.join(" ", mode) + " && echo \"$MIGRATE_JVM_OPTS\" && echo \"archive=$MIGRATE_CDS_ARCHIVE\"";
        Commands.Result r = Commands.run(List.of("sh", "-c", script));
        assertEquals(0, r.exit(), r.output());
        return r.output().lines().toList();
    }

    private static Path stubJava(Path dir) throws Exception {
        Path java = dir.resolve("java");
        Files.writeString(java, """
                #!/bin/sh
                echo "$@" >> "$(dirname "$0")/calls"
                for a in "$@"; do
                  case $a in -XX:ArchiveClassesAtExit=*) echo archive > "${a#-XX:ArchiveClassesAtExit=}";; esac
                done
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return java;
    }

    @Test
    void trainsOnceInTheBackgroundThenStartsFromTheArchive(@TempDir Path dir) throws Exception {
        Path java = stubJava(dir);
        Path jarDir = Files.createDirectories(dir.resolve("share"));
        Path jar = Files.writeString(jarDir.resolve("ferry.jar"), "not really a jar");

        List<String> first = startup(java, jar, dir.resolve("home"), "on");
        assertEquals(C1 + " -Xshare:auto -Xlog:disable -Xlog:all=error:stderr", first.get(0));
        assertEquals("archive=", first.get(1), "no archive yet: this run starts without one");
        Await.until("the background training made the archive", () -> archives(jarDir).size() == 1, Duration.ofSeconds(30));
        String calls = Files.readString(dir.resolve("calls"));
        assertTrue(calls.contains("-cp " + jar + " dev.ferry.cli.StartupTraining"), calls);

        List<String> second = startup(java, jar, dir.resolve("home"), "on");
        assertEquals("archive=" + archives(jarDir).get(0), second.get(1));
        Await.until("the training lock released", () -> !hasLock(jarDir), Duration.ofSeconds(30));
    }

    /** The package's way: the archive goes to the user's cache, never next to the jar in /usr/share/ferry. */
    @Test
    void cacheOnlyKeepsTheArchiveOutOfTheJarsDirectory(@TempDir Path dir) throws Exception {
        Path java = stubJava(dir);
        Path jarDir = Files.createDirectories(dir.resolve("usr-share-ferry"));
        Path jar = Files.writeString(jarDir.resolve("ferry.jar"), "x");
        Path cache = dir.resolve("home/.cache/ferry");
        assertEquals("archive=", startup(java, jar, dir.resolve("home"), "on", "cache-only").get(1));
        Await.until("the archive in the user's cache", () -> archives(cache).size() == 1, Duration.ofSeconds(30));
        assertEquals("archive=" + archives(cache).get(0), startup(java, jar, dir.resolve("home"), "on", "cache-only").get(1));
        try (var files = Files.list(jarDir)) {
            assertEquals(List.of(jarDir.resolve("ferry.jar")), files.toList(), "nothing written next to the jar");
        }
        Await.until("the training lock released", () -> !hasLock(cache), Duration.ofSeconds(30));
    }

    @Test
    void ferryCdsOffKeepsC1Only(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("ferry.jar"), "x");
        assertEquals(List.of(C1, "archive="), startup(stubJava(dir), jar, dir, "off"));
        assertTrue(!Files.exists(dir.resolve("calls")), "no training run");
    }

    @Test
    void noJarMeansNoArchiveAndNoTraining(@TempDir Path dir) throws Exception {
        assertEquals(List.of(C1, "archive="), startup(stubJava(dir), dir.resolve("missing.jar"), dir, "on"));
        assertTrue(!Files.exists(dir.resolve("calls")), "no training run");
    }

    private static List<Path> archives(Path dir) {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().matches("migrate-[0-9.]+\\.jsa")).toList();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    private static boolean hasLock(Path dir) {
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".training"));
        } catch (java.io.IOException e) {
            return true;
        }
    }
}
