package dev.ferry.cli.units;

import java.util.Locale;
import picocli.CommandLine.TypeConversionException;

/** Bytes per second; zero means unlimited. Parses {@code 500MiB/s}, {@code 1GB/s}, {@code 0}. */
public record ByteRate(long bytesPerSecond) {
    public static final ByteRate UNLIMITED = new ByteRate(0);

    public ByteRate {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("negative rate " + bytesPerSecond);
        }
    }

    /** @throws TypeConversionException naming the text and an example of the accepted form */
    public static ByteRate parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.equalsIgnoreCase("unlimited") || t.equals("0")) {
            return UNLIMITED;
        }
        String lower = t.toLowerCase(Locale.ROOT);
        if (!lower.endsWith("/s")) {
            throw new TypeConversionException("malformed rate '" + text + "': use e.g. 500MiB/s, 1GB/s, or 0 for unlimited");
        }
        try {
            return new ByteRate(ByteSize.parse(t.substring(0, t.length() - 2)).bytes());
        } catch (TypeConversionException e) {
            throw new TypeConversionException("malformed rate '" + text + "': use e.g. 500MiB/s, 1GB/s, or 0 for unlimited");
        }
    }

    /** e.g. {@code 1.20 GiB/s}. */
    public static String format(double bytesPerSecond) {
        return ByteSize.format(bytesPerSecond) + "/s";
    }

    @Override
    public String toString() {
        return bytesPerSecond == 0 ? "unlimited" : format(bytesPerSecond);
    }
}
