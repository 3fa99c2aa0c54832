package dev.ferry.testkit;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * Where the tests run: on the host, or inside the lab VM ({@code deploy/lab/run-in-vm} exports
 * {@code FERRY_LAB=1} and {@code FERRY_DEADLINE_SCALE}). Read from the environment (or the
 * system properties {@code ferry.lab} / {@code ferry.deadline.scale}, which win) each time it is
 * asked, so there is no static state to reset between tests.
 *
 * <p>Inside the VM the CPU is emulated: everything takes roughly ten times longer, so every
 * deadline a test waits on should go through {@link #scaled(Duration)}.
 */
public final class LabEnvironment {
    private LabEnvironment() {}

    /** True inside the lab VM: lab-only tests must run there, a missing feature fails them. */
    public static boolean isLab() {
        String v = setting("ferry.lab", "FERRY_LAB").orElse("");
        return v.equals("1") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("yes");
    }

    /** The factor by which deadlines are stretched (1 on the host unless configured). */
    public static double deadlineScale() {
        return setting("ferry.deadline.scale", "FERRY_DEADLINE_SCALE")
                .map(LabEnvironment::parseScale)
                .orElse(1.0);
    }

    /** {@code d} multiplied by {@link #deadlineScale()}. */
    public static Duration scaled(Duration d) {
        double scale = deadlineScale();
        return scale == 1.0 ? d : Duration.ofNanos((long) Math.min(Long.MAX_VALUE / 2.0, d.toNanos() * scale));
    }

    /** The kernel release, as {@code uname -r} prints it. */
    public static String kernelRelease() {
        return System.getProperty("os.version", "unknown");
    }

    private static double parseScale(String s) {
        try {
            double v = Double.parseDouble(s.trim());
            if (v >= 0.1 && v <= 1000) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through: a typo must not silently shrink the deadlines
        }
        throw new IllegalArgumentException("FERRY_DEADLINE_SCALE must be a number in [0.1, 1000], got '" + s + "'");
    }

    private static Optional<String> setting(String property, String env) {
        String p = System.getProperty(property);
        if (p != null && !p.isBlank()) {
            return Optional.of(p.trim().toLowerCase(Locale.ROOT));
        }
        String e = System.getenv(env);
        return e == null || e.isBlank() ? Optional.empty() : Optional.of(e.trim());
    }
}
