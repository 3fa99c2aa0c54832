package dev.ferry.service.systemd;

/** New work is refused once the daemon has begun to stop (map it to gRPC UNAVAILABLE). */
public final class ShutdownInProgressException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ShutdownInProgressException(String what) {
        super("the daemon is shutting down: refusing " + what);
    }
}
