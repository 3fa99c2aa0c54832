package dev.ferry.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Host-side: the probes return typed results whatever this kernel has. */
class KernelFeaturesTest {

    @Test
    void softDirtyProbeReturnsATypedResultWithAReason() {
        FeatureCheck c = KernelFeatures.probeSoftDirty();
        assertEquals(KernelFeature.SOFT_DIRTY, c.feature());
        assertFalse(c.detail().isBlank());
        assertTrue(c.message().contains("on kernel " + LabEnvironment.kernelRelease()), c.message());
        if (c.available()) {
            assertEquals("soft-dirty: works", c.detail());
        } else {
            assertTrue(c.detail().contains("bit 55") || c.detail().contains("clear_refs") || c.detail().contains("pagemap"),
                    "the reason names what failed: " + c.detail());
        }
        System.out.println(c.message());
    }

    @Test
    void criuProbeReturnsATypedResultWithAReason() {
        FeatureCheck c = KernelFeatures.probeCriu();
        assertEquals(KernelFeature.CRIU, c.feature());
        assertFalse(c.detail().isBlank());
        if (c.available()) {
            assertTrue(c.detail().contains("Looks good"), c.detail());
        }
        System.out.println(c.message());
    }
}
