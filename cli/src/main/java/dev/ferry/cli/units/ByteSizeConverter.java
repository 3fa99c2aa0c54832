package dev.ferry.cli.units;

import picocli.CommandLine.ITypeConverter;

/** picocli converter for {@link ByteSize}. */
public final class ByteSizeConverter implements ITypeConverter<ByteSize> {
    @Override
    public ByteSize convert(String text) {
        return ByteSize.parse(text);
    }
}
