package dev.ferry.cli.units;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.TypeConversionException;

/**
 * A number of bytes. Parses IEC ({@code KiB MiB GiB TiB}, powers of 1024) and SI
 * ({@code kB MB GB TB}, powers of 1000) suffixes and plain bytes ({@code 4096}, {@code 4096B});
 * formats with IEC units, the way page counts add up.
 */
public record ByteSize(long bytes) {
    private static final Pattern FORM = Pattern.compile(
            "\\s*(\\d+(?:\\.\\d+)?)\\s*(b|kib|mib|gib|tib|k|kb|m|mb|g|gb|t|tb)?\\s*", Pattern.CASE_INSENSITIVE);

    public ByteSize {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative byte size " + bytes);
        }
    }

    /** @throws TypeConversionException naming the text and an example of the accepted form */
    public static ByteSize parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new TypeConversionException("malformed size '" + text + "': use e.g. 4096, 64KiB, 500MiB, 2GB");
        }
        double factor = unitFactor(m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT));
        double bytes = Double.parseDouble(m.group(1)) * factor;
        if (bytes >= Long.MAX_VALUE) {
            throw new TypeConversionException("size '" + text + "' is too large");
        }
        return new ByteSize(Math.round(bytes));
    }

    private static double unitFactor(String unit) {
        return switch (unit) {
            case "b" -> 1;
            case "kib" -> 1L << 10;
            case "mib" -> 1L << 20;
            case "gib" -> 1L << 30;
            case "tib" -> 1L << 40;
            // Lone K/M/G/T: SI like dd and most tools that print rates in "MB/s".
            case "k", "kb" -> 1e3;
            case "m", "mb" -> 1e6;
            case "g", "gb" -> 1e9;
            case "t", "tb" -> 1e12;
            default -> throw new IllegalStateException(unit);
        };
    }

    /** e.g. {@code 512 B}, {@code 12.0 KiB}, {@code 1.50 GiB}: three significant digits. */
    public static String format(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (u == 0) {
            return String.format(Locale.ROOT, "%d B", Math.round(v));
        }
        String digits = Math.abs(v) >= 100 ? "%.0f" : Math.abs(v) >= 10 ? "%.1f" : "%.2f";
        return String.format(Locale.ROOT, digits + " %s", v, units[u]);
    }

    @Override
    public String toString() {
        return format(bytes);
    }
}
