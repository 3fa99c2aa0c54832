package dev.ferry.cli.attach;

import dev.ferry.cli.CliFailure;
import dev.ferry.cli.ExitCode;
import dev.ferry.cli.connect.CoordinatorClient;
import dev.ferry.cli.connect.EventStream;
import dev.ferry.cli.render.EventView;
import dev.ferry.proto.MigrationEvent;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;

/**
 * Follows one migration's event stream to its end, showing each event once in sequence order.
 * When the coordinator goes away mid-stream (leader change, restart), it re-attaches with replay
 * and skips what it already showed (sequences are gap-free per migration).
 * {@link #run()} runs on one thread; {@link #detach()} may be called from any other.
 */
public final class Follower {
    private static final int MAX_RECONNECTS = 10;

    private final CoordinatorClient client;
    private final String migrationId;
    private final EventView view;
    private final Duration reconnectPause;
    private volatile EventStream current;
    private volatile boolean detached;

    public Follower(CoordinatorClient client, String migrationId, EventView view, Duration reconnectPause) {
        this.client = client;
        this.migrationId = migrationId;
        this.view = view;
        this.reconnectPause = reconnectPause;
    }

    public String migrationId() {
        return migrationId;
    }

    public Outcome run() {
        long nextSequence = 0;
        int reconnects = 0;
        while (true) {
            if (detached) {
                return new Outcome.Detached();
            }
            EventStream stream = client.watch(migrationId, true);
            current = stream;
            if (detached) {
                stream.close();
            }
            try {
                while (stream.hasNext()) {
                    MigrationEvent event = stream.next();
                    if (event.getSequence() < nextSequence) {
                        continue; // replayed again after a reconnect
                    }
                    nextSequence = event.getSequence() + 1;
                    reconnects = 0;
                    view.show(event);
                    if (event.hasFinished()) {
                        stream.close();
                        return new Outcome.Finished(event.getFinished());
                    }
                }
                if (detached) {
                    return new Outcome.Detached();
                }
                // The server ended the stream without the final event: re-attach.
                reconnects = pauseBeforeReconnect(reconnects, "the coordinator ended the event stream early");
            } catch (StatusRuntimeException e) {
                if (detached) {
                    return new Outcome.Detached();
                }
                Status.Code code = e.getStatus().getCode();
                // CANCELLED here was not ours (detach is checked above): a server shutting down
                // cancels its streams, as a coordinator that restarts or loses leadership does.
                if (code != Status.Code.UNAVAILABLE && code != Status.Code.INTERNAL && code != Status.Code.CANCELLED) {
                    throw client.failure("watch migration " + migrationId, e);
                }
                reconnects = pauseBeforeReconnect(reconnects, "lost the coordinator ("
                        + (e.getStatus().getDescription() == null ? code : e.getStatus().getDescription()) + ")");
            } finally {
                stream.close();
            }
        }
    }

    private int pauseBeforeReconnect(int reconnects, String why) {
        if (reconnects >= MAX_RECONNECTS) {
            throw new CliFailure(ExitCode.UNREACHABLE, why + "; gave up after " + MAX_RECONNECTS
                    + " attempts. The migration goes on without you: migrate watch " + migrationId);
        }
        view.note(why + "; re-attaching...");
        try {
            Thread.sleep(reconnectPause.toMillis() * (reconnects + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(ExitCode.INTERNAL, "interrupted while re-attaching", e);
        }
        return reconnects + 1;
    }

    /** Stops following; {@link #run()} returns {@link Outcome.Detached}. The migration goes on. */
    public void detach() {
        detached = true;
        EventStream s = current;
        if (s != null) {
            s.close();
        }
    }
}
