package dev.ferry.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoMainTest {

    @Test
    void dryRunStaysHereStartsZooKeeperAndAVerifiedWorkloadAndNamesWhatIsMissing() {
        PrintStream before = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = new CommandLine(new DemoMain()).execute("--dry-run", "--size-mib", "8", "--rate", "200");
        } finally {
            System.setOut(before);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertEquals(0, rc, out);
        assertTrue(out.contains("soft-dirty PTEs (CONFIG_MEM_SOFT_DIRTY)"), out);
        assertTrue(out.contains("ZooKeeper (embedded) serving on 127.0.0.1:"), out);
        assertTrue(out.contains("no corruption"), out);
        assertTrue(out.contains("demo complete") || out.contains("demo INCOMPLETE: still missing: "), out);
        assertTrue(!out.contains("lab VM (deploy/lab/run-in-vm"), "--dry-run never goes to the VM: " + out);
    }
}
