package dev.ferry.cli.units;

import picocli.CommandLine.ITypeConverter;

/** picocli converter for {@link ByteRate}. */
public final class ByteRateConverter implements ITypeConverter<ByteRate> {
    @Override
    public ByteRate convert(String text) {
        return ByteRate.parse(text);
    }
}
