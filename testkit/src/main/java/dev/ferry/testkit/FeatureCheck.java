package dev.ferry.testkit;

/**
 * The typed result of probing one {@link KernelFeature}: present or not, and why (the probe's
 * own words: the reason it is missing, or e.g. criu's version and "Looks good.").
 */
public record FeatureCheck(KernelFeature feature, boolean available, String detail, String kernelRelease) {
    public static FeatureCheck available(KernelFeature f, String detail) {
        return new FeatureCheck(f, true, detail, LabEnvironment.kernelRelease());
    }

    public static FeatureCheck missing(KernelFeature f, String reason) {
        return new FeatureCheck(f, false, reason, LabEnvironment.kernelRelease());
    }

    /** E.g. "soft-dirty PTEs (CONFIG_MEM_SOFT_DIRTY) missing on kernel 6.18.44: bit 55 not set ...". */
    public String message() {
        return feature.description() + (available ? " available" : " missing") + " on kernel " + kernelRelease + ": " + detail;
    }
}
