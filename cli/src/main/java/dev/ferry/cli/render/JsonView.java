package dev.ferry.cli.render;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.ferry.proto.MigrationEvent;
import java.io.PrintWriter;

/**
 * One JSON object per line per event (protobuf's JSON mapping, lowerCamel field names, every
 * field present even when zero) for scripts: {@code migrate ... --output json | jq}. Notes go
 * to stderr so stdout stays parseable.
 */
public final class JsonView implements EventView {
    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().omittingInsignificantWhitespace().alwaysPrintFieldsWithNoPresence();

    private final PrintWriter out;
    private final PrintWriter err;

    public JsonView(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    /** One line of JSON for any of the contract's messages. */
    public static String json(MessageOrBuilder message) {
        try {
            return PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            // Only Any fields without a type registry fail; the contracts have none.
            throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
        }
    }

    @Override
    public void show(MigrationEvent event) {
        out.println(json(event));
        out.flush();
    }

    @Override
    public void note(String message) {
        err.println(message);
        err.flush();
    }
}
