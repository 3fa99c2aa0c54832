package dev.ferry.cli.units;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class UnitsTest {
    @Test
    void durations() {
        assertEquals(Duration.ofMillis(300), DurationConverter.parse("300ms"));
        assertEquals(Duration.ofSeconds(2), DurationConverter.parse("2s"));
        assertEquals(Duration.ofMillis(1500), DurationConverter.parse("1.5s"));
        assertEquals(Duration.ofMinutes(2), DurationConverter.parse("2m"));
        assertEquals(Duration.ofMinutes(3), DurationConverter.parse("3min"));
        assertEquals(Duration.ofNanos(500_000), DurationConverter.parse("500us"));
        assertEquals(Duration.ofHours(1), DurationConverter.parse("1H"));
    }

    @Test
    void malformedDurationsNameTheTextAndTheForm() {
        for (String bad : new String[] {"3x", "300", "", "ms", "-1s", "1,5s", "1.s"}) {
            var e = assertThrows(TypeConversionException.class, () -> DurationConverter.parse(bad));
            assertEquals("malformed duration '" + bad + "': use e.g. 300ms, 2s", e.getMessage());
        }
    }

    @Test
    void sizes() {
        assertEquals(4096, ByteSize.parse("4096").bytes());
        assertEquals(4096, ByteSize.parse("4096B").bytes());
        assertEquals(64 << 10, ByteSize.parse("64KiB").bytes());
        assertEquals(500L << 20, ByteSize.parse("500MiB").bytes());
        assertEquals(3L << 29, ByteSize.parse("1.5GiB").bytes());
        assertEquals(2_000_000_000L, ByteSize.parse("2GB").bytes());
        assertEquals(2_000_000L, ByteSize.parse("2M").bytes());
        assertEquals(1L << 40, ByteSize.parse("1 TiB").bytes());
        assertThrows(TypeConversionException.class, () -> ByteSize.parse("5Q"));
        assertThrows(TypeConversionException.class, () -> ByteSize.parse("MiB"));
        assertThrows(TypeConversionException.class, () -> ByteSize.parse("99999999999TiB"));
    }

    @Test
    void rates() {
        assertEquals(500L << 20, ByteRate.parse("500MiB/s").bytesPerSecond());
        assertEquals(1_000_000_000L, ByteRate.parse("1GB/s").bytesPerSecond());
        assertEquals(0, ByteRate.parse("0").bytesPerSecond());
        assertEquals(0, ByteRate.parse("unlimited").bytesPerSecond());
        var e = assertThrows(TypeConversionException.class, () -> ByteRate.parse("500MiB"));
        assertEquals("malformed rate '500MiB': use e.g. 500MiB/s, 1GB/s, or 0 for unlimited", e.getMessage());
        assertThrows(TypeConversionException.class, () -> ByteRate.parse("fast/s"));
    }

    @Test
    void formats() {
        assertEquals("512 B", ByteSize.format(512));
        assertEquals("1.00 KiB", ByteSize.format(1024));
        assertEquals("1.20 GiB", ByteSize.format(1_289_000_000L));
        assertEquals("256 MiB", ByteSize.format(256L << 20));
        assertEquals("12.5 MiB/s", ByteRate.format(12.5 * (1 << 20)));
        assertEquals("850 us", Figures.micros(850));
        assertEquals("1.20 ms", Figures.micros(1_200));
        assertEquals("212 ms", Figures.millis(212));
        assertEquals("4.21 s", Figures.millis(4_210));
        assertEquals("2m05s", Figures.millis(125_000));
        assertEquals("262,144", Figures.count(262_144));
        assertEquals("12.3k p/s", Figures.pageRate(12_345));
    }
}
