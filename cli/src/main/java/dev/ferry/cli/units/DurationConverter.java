package dev.ferry.cli.units;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses durations as operators write them: {@code 300ms}, {@code 2s}, {@code 1.5s}, {@code 2m},
 * {@code 500us}. A bare number is refused: a downtime limit of "300" is ambiguous.
 */
public final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern FORM =
            Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*(us|ms|s|m|min|h)\\s*", Pattern.CASE_INSENSITIVE);

    @Override
    public Duration convert(String text) {
        return parse(text);
    }

    /** @throws TypeConversionException naming the text and an example of the accepted form */
    public static Duration parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new TypeConversionException("malformed duration '" + text + "': use e.g. 300ms, 2s");
        }
        double value = Double.parseDouble(m.group(1));
        double nanosPerUnit = switch (m.group(2).toLowerCase(java.util.Locale.ROOT)) {
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            case "m", "min" -> 60e9;
            case "h" -> 3600e9;
            default -> throw new IllegalStateException(m.group(2));
        };
        double nanos = value * nanosPerUnit;
        if (nanos > Long.MAX_VALUE) {
            throw new TypeConversionException("duration '" + text + "' is too long");
        }
        return Duration.ofNanos(Math.round(nanos));
    }
}
