package dev.ferry.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchMainTest {

    @Test
    void registersEveryBenchmarkAsASubcommand() {
        var names = BenchMain.commandLine().getSubcommands().keySet();
        assertTrue(names.containsAll(List.of("kernel-probe", "policy", "help")), names.toString());
    }

    @Test
    void kernelProbeEndsWithOneLineOfKeyValueFigures() {
        String out = capture(() -> assertEquals(0, BenchMain.commandLine().execute("kernel-probe", "--repeat", "1")));
        String[] lines = out.strip().split("\n");
        String last = lines[lines.length - 1];
        for (String kv : last.split(" ")) {
            assertTrue(kv.matches("[a-z_]+=\\S+"), "key=value figure: " + kv + " in " + last);
        }
        assertTrue(last.contains("soft_dirty=") && last.contains("criu=") && last.contains("kernel="), last);
        assertTrue(lines[0].startsWith("feature"), "a human table first: " + lines[0]);
    }

    @Test
    void anUnknownBenchmarkIsAUsageError() {
        assertNotEquals(0, BenchMain.commandLine().execute("no-such-bench"));
    }

    static String capture(Runnable r) {
        PrintStream before = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(before);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
