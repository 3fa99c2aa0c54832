package dev.ferry.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoMainTest {

    /** On a host without soft-dirty or CRIU (this one), a real migration is refused up front: no VM, no process. */
    @Test
    void withoutDryRunAHostThatCannotSwitchOverRefusesNamingWhatIsMissing() {
        dev.ferry.testkit.FeatureCheck softDirty = dev.ferry.testkit.KernelFeatures.probeSoftDirty();
        dev.ferry.testkit.FeatureCheck criu = dev.ferry.testkit.KernelFeatures.probeCriu();
        org.junit.jupiter.api.Assumptions.assumeFalse(softDirty.available() && criu.available(),
                "this host can switch over: nothing to refuse");
        PrintStream before = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = new CommandLine(new DemoMain()).execute("--size-mib", "8");
        } finally {
            System.setOut(before);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertEquals(2, rc, out);
        assertTrue(out.contains("REFUSED: a real migration needs"), out);
        assertTrue(!softDirty.available() == out.contains("soft-dirty page tracking"), out);
        assertTrue(!criu.available() == out.contains("a working CRIU"), out);
        assertTrue(out.contains("bin/ferry-demo --dry-run") && out.contains("bin/ferry-demo --lab"), out);
        assertTrue(!out.contains("ZooKeeper (embedded) serving"), "nothing started: " + out);
    }

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
