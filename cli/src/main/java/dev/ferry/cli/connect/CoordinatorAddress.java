package dev.ferry.cli.connect;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Where a coordinator listens. Default: env {@code FERRY_COORDINATOR}, else 127.0.0.1:7000. */
public record CoordinatorAddress(String host, int port) {
    public static final String ENV = "FERRY_COORDINATOR";
    public static final String FALLBACK = "127.0.0.1:7000";

    public static CoordinatorAddress parse(String text) {
        String t = text == null ? "" : text.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw malformed(text);
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw malformed(text);
        }
        if (port < 1 || port > 65535 || host.isBlank()) {
            throw malformed(text);
        }
        return new CoordinatorAddress(host, port);
    }

    private static TypeConversionException malformed(String text) {
        return new TypeConversionException(
                "malformed coordinator address '" + text + "': use host:port, e.g. 127.0.0.1:7000");
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** picocli converter. */
    public static final class Converter implements ITypeConverter<CoordinatorAddress> {
        @Override
        public CoordinatorAddress convert(String text) {
            return parse(text);
        }
    }
}
