package dev.ferry.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkloadTest {

    @Test
    void runsInItsOwnSessionAndReportsOkLines() throws IOException {
        try (Workload w = Workload.memtouch().sizeMib(8).ratePagesPerSecond(2000)
                .verifyInterval(Duration.ofMillis(100)).start()) {
            MemtouchLine third = w.awaitOkLines(3, Duration.ofSeconds(20));
            assertEquals(3, third.counter());
            assertEquals(w.pid(), third.pid(), "the workload's pid is the child's (setsid did not fork)");
            assertEquals(2048, third.number("pages").orElseThrow());
            assertTrue(third.writes() > 2048, "pages were dirtied after the fill: " + third);
            assertEquals(Long.toString(w.pid()), statField(w.pid(), 6), "session id == pid (setsid)");
            assertEquals("0", statField(w.pid(), 7), "no controlling terminal");
            assertTrue(w.corruptLines().isEmpty());
            MemtouchLine later = w.awaitOkBeyond(third.counter() + 1, Duration.ofSeconds(20));
            assertTrue(later.writes() > third.writes(), "writes keep growing: " + later);
        }
    }

    @Test
    void closeKillsTheWorkload() {
        Workload w = Workload.memtouch().sizeMib(4).start();
        w.awaitOkLines(1, Duration.ofSeconds(20));
        long pid = w.pid();
        w.close();
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " still alive");
    }

    /** Proves the verification can fail: flip memory from outside, expect a CORRUPT line. */
    @Test
    void detectsMemoryCorruptedFromOutside() throws IOException {
        try (Workload w = Workload.memtouch().sizeMib(8).ratePagesPerSecond(0)
                .verifyInterval(Duration.ofMillis(50)).start()) {
            w.awaitOkLines(1, Duration.ofSeconds(20));
            long[] region = largestWritableAnonymousMapping(w.pid());
            try (RandomAccessFile mem = new RandomAccessFile("/proc/" + w.pid() + "/mem", "rw")) {
                mem.seek(region[0] + (region[1] - region[0]) / 2 + 8);
                mem.writeLong(0x0123456789abcdefL);
            }
            AssertionError e = assertThrows(AssertionError.class, () -> w.awaitOkLines(10_000, Duration.ofSeconds(20)));
            assertTrue(e.getMessage().contains("CORRUPT"), e.getMessage());
            assertFalse(w.corruptLines().isEmpty());
            assertTrue(w.corruptLines().get(0).raw().contains("bad_pages=1"), w.corruptLines().get(0).raw());
        }
    }

    @Test
    void ownPidNamespaceReportsTheOuterPidOfTheNamespaceInit() {
        try (Workload w = Workload.memtouch().sizeMib(4).ownPidNamespace(true).start()) {
            MemtouchLine ok = w.awaitOkLines(1, Duration.ofSeconds(20));
            assertEquals(1, ok.pid(), "getpid() inside its own namespace");
            assertTrue(w.pid() > 1 && w.isAlive());
        }
    }

    /** Field {@code n} of /proc/PID/stat in proc(5) numbering (1 = pid, 6 = session, 7 = tty_nr). */
    private static String statField(long pid, int n) throws IOException {
        String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] rest = s.substring(s.lastIndexOf(')') + 2).split(" "); // rest[0] is field 3
        return rest[n - 3];
    }

    private static long[] largestWritableAnonymousMapping(long pid) throws IOException {
        long[] best = null;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/maps"))) {
            String[] f = line.trim().split("\\s+");
            if (!f[1].startsWith("rw") || f.length > 5) {
                continue; // named mappings (files, [heap], [stack]) have a 6th column
            }
            String[] r = f[0].split("-");
            long[] range = {Long.parseUnsignedLong(r[0], 16), Long.parseUnsignedLong(r[1], 16)};
            if (best == null || range[1] - range[0] > best[1] - best[0]) {
                best = range;
            }
        }
        assertTrue(best != null, "no anonymous mapping in /proc/" + pid + "/maps");
        return best;
    }
}
