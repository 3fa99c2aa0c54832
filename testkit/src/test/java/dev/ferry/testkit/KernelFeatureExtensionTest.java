package dev.ferry.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * Runs a {@link RequiresSoftDirty} test through the JUnit engine, as the host and as the lab,
 * and checks what happens to it given what this kernel really has.
 */
class KernelFeatureExtensionTest {
    private static final String GUARD = "ferry.testkit.engine-target";

    @Test
    void onTheHostAMissingFeatureSkipsWithItsNameAndInTheLabItFails() {
        boolean softDirty = KernelFeatures.probeSoftDirty().available();

        Events host = run("0");
        if (softDirty) {
            host.assertStatistics(s -> s.succeeded(1).skipped(0).failed(0));
        } else {
            host.assertStatistics(s -> s.skipped(1).started(0));
            String reason = host.skipped().list().get(0).getPayload(String.class).orElse("");
            assertTrue(reason.contains("soft-dirty PTEs (CONFIG_MEM_SOFT_DIRTY) missing on kernel"), reason);
            assertTrue(reason.contains("deploy/lab/run-in-vm"), reason);
        }

        Events lab = run("1");
        if (softDirty) {
            lab.assertStatistics(s -> s.succeeded(1).failed(0));
        } else {
            lab.assertStatistics(s -> s.started(1).failed(1).skipped(0));
            Throwable t = lab.failed().list().get(0).getPayload(org.junit.platform.engine.TestExecutionResult.class)
                    .flatMap(org.junit.platform.engine.TestExecutionResult::getThrowable).orElseThrow();
            assertTrue(t.getMessage().contains("LAB MISCONFIGURED"), t.getMessage());
        }
    }

    @Test
    void theAnnotationTagsTheTestLab() {
        assertEquals("lab", RequiresSoftDirty.class.getAnnotation(org.junit.jupiter.api.Tag.class).value());
        assertEquals("lab", RequiresCriu.class.getAnnotation(org.junit.jupiter.api.Tag.class).value());
    }

    private static Events run(String lab) {
        String before = System.getProperty("ferry.lab");
        System.setProperty("ferry.lab", lab);
        System.setProperty(GUARD, "true");
        try {
            return EngineTestKit.engine("junit-jupiter").selectors(selectClass(SoftDirtyTarget.class)).execute().testEvents();
        } finally {
            System.clearProperty(GUARD);
            if (before == null) {
                System.clearProperty("ferry.lab");
            } else {
                System.setProperty("ferry.lab", before);
            }
        }
    }

    /** Not matched by test-class name patterns, and guarded: only runs through the engine above. */
    @EnabledIfSystemProperty(named = GUARD, matches = "true")
    static class SoftDirtyTarget {
        @Test
        @RequiresSoftDirty
        void needsSoftDirty() {
            // passes whenever it is allowed to run
        }
    }

}
