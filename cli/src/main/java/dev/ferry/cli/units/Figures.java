package dev.ferry.cli.units;

import java.time.Duration;
import java.util.Locale;

/** Short human forms of counts and times for tables: {@code 262,144}, {@code 212 ms}, {@code 4.21 s}. */
public final class Figures {
    private Figures() {
    }

    public static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** Three significant digits from microseconds up to minutes. */
    public static String micros(long micros) {
        if (micros < 1_000) {
            return micros + " us";
        }
        return millis(micros / 1000.0);
    }

    public static String millis(double millis) {
        if (millis < 10) {
            return String.format(Locale.ROOT, "%.2f ms", millis);
        }
        if (millis < 1_000) {
            return String.format(Locale.ROOT, "%.0f ms", millis);
        }
        if (millis < 60_000) {
            return String.format(Locale.ROOT, "%.2f s", millis / 1000);
        }
        long s = Math.round(millis / 1000);
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    public static String duration(Duration d) {
        return millis(d.toNanos() / 1e6);
    }

    /** Pages per second, e.g. {@code 12.3k pages/s}. */
    public static String pageRate(double pagesPerSecond) {
        if (pagesPerSecond < 1_000) {
            return String.format(Locale.ROOT, "%.0f p/s", pagesPerSecond);
        }
        if (pagesPerSecond < 1_000_000) {
            return String.format(Locale.ROOT, "%.1fk p/s", pagesPerSecond / 1e3);
        }
        return String.format(Locale.ROOT, "%.2fM p/s", pagesPerSecond / 1e6);
    }
}
