package dev.ferry.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The lab proves it is what it claims: soft-dirty works (in-process probe, and from outside on
 * a running workload, as the agent will use it) and {@code criu check} passes. Prints the
 * kernel release and criu's verdict for the record.
 */
class LabSelfTest {
    private static final long SOFT_DIRTY = 1L << 55;
    private static final long PRESENT = 1L << 63;

    @Test
    @RequiresSoftDirty
    void softDirtyBitFollowsWritesAndClearRefs() throws IOException {
        FeatureCheck probe = KernelFeatures.probeSoftDirty();
        System.out.println("LAB kernel (uname -r): " + LabEnvironment.kernelRelease());
        System.out.println("LAB " + probe.message());
        assertTrue(probe.available(), probe.message());

        // From outside, as the agent does it: a workload that rewrites 50 pages/s of 2048.
        try (Workload w = Workload.memtouch().sizeMib(8).ratePagesPerSecond(50)
                .verifyInterval(Duration.ofMillis(200)).start()) {
            MemtouchLine first = w.awaitOkLines(1, Duration.ofSeconds(20));
            long[] region = memtouchRegion(w.pid(), 8L << 20);
            long pages = (region[1] - region[0]) / 4096;
            assertEquals(pages, softDirtyPages(w.pid(), region), "every freshly written page is soft-dirty");
            clearRefs(w.pid());
            long afterClear = softDirtyPages(w.pid(), region);
            // the workload writes ~1 page per 20 ms, so a handful may be dirty again already
            assertTrue(afterClear < pages / 10, "clear_refs 4 cleared bit 55: " + afterClear + " of " + pages + " still set");
            MemtouchLine later = w.awaitOkBeyond(first.counter() + 2, Duration.ofSeconds(20));
            long dirty = softDirtyPages(w.pid(), region);
            System.out.printf("LAB soft-dirty from outside: %d pages, %d dirty after clear_refs, %d dirty %d writes later%n",
                    pages, afterClear, dirty, later.writes() - first.writes());
            assertTrue(dirty > afterClear && dirty < pages, "written pages are soft-dirty again: " + dirty);
            w.assertNoCorruption();
        }
    }

    @Test
    @RequiresCriu
    void criuCheckPasses() {
        FeatureCheck criu = KernelFeatures.probeCriu();
        System.out.println("LAB kernel (uname -r): " + LabEnvironment.kernelRelease());
        System.out.println("LAB " + criu.message());
        assertTrue(criu.available(), criu.message());
    }

    /** The workload's data mapping: the anonymous rw mapping at least {@code size} long. */
    private static long[] memtouchRegion(long pid, long size) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/maps"))) {
            String[] f = line.trim().split("\\s+");
            String[] r = f[0].split("-");
            long start = Long.parseUnsignedLong(r[0], 16);
            long end = Long.parseUnsignedLong(r[1], 16);
            if (f.length == 5 && f[1].startsWith("rw") && end - start == size) {
                return new long[] {start, end};
            }
        }
        throw new AssertionError("no " + size + "-byte anonymous mapping in /proc/" + pid + "/maps");
    }

    private static long softDirtyPages(long pid, long[] region) throws IOException {
        long pages = (region[1] - region[0]) / 4096;
        ByteBuffer buf = ByteBuffer.allocate((int) pages * 8).order(ByteOrder.nativeOrder());
        try (FileChannel ch = FileChannel.open(Path.of("/proc/" + pid + "/pagemap"), StandardOpenOption.READ)) {
            long pos = region[0] / 4096 * 8;
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos + buf.position());
                if (n <= 0) {
                    throw new IOException("short pagemap read");
                }
            }
        }
        buf.flip();
        long dirty = 0;
        for (int i = 0; i < pages; i++) {
            long e = buf.getLong();
            assertTrue((e & PRESENT) != 0, "page " + i + " present (the workload filled it)");
            if ((e & SOFT_DIRTY) != 0) {
                dirty++;
            }
        }
        return dirty;
    }

    private static void clearRefs(long pid) throws IOException {
        Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "4");
    }
}
