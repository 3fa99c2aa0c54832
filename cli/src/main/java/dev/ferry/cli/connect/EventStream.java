package dev.ferry.cli.connect;

import dev.ferry.proto.MigrationEvent;
import io.grpc.Context;
import java.util.Iterator;

/**
 * One WatchMigration call, read on the calling thread. {@link #close()} may be called from any
 * thread (e.g. the Ctrl-C handler): the reader then sees the stream end with CANCELLED.
 */
public final class EventStream implements AutoCloseable {
    private final Context.CancellableContext context;
    private final Iterator<MigrationEvent> events;

    EventStream(Context.CancellableContext context, Iterator<MigrationEvent> events) {
        this.context = context;
        this.events = events;
    }

    /** Blocks for the next event; false when the migration's stream ended. */
    public boolean hasNext() {
        return events.hasNext();
    }

    public MigrationEvent next() {
        return events.next();
    }

    @Override
    public void close() {
        context.cancel(null);
    }
}
