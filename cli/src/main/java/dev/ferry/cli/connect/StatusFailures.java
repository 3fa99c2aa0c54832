package dev.ferry.cli.connect;

import dev.ferry.cli.CliFailure;
import dev.ferry.cli.ExitCode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Maps a gRPC status from the coordinator to the operator's one-line error and exit code. */
public final class StatusFailures {
    private StatusFailures() {
    }

    /**
     * @param what what the CLI was doing, e.g. "start the migration"
     * @param address the coordinator asked
     */
    public static CliFailure from(String what, CoordinatorAddress address, StatusRuntimeException e) {
        Status status = e.getStatus();
        String description = status.getDescription();
        String detail = description != null && !description.isBlank() ? description
                : status.getCause() != null ? rootMessage(status.getCause()) : status.getCode().toString();
        // gRPC's transport failures say only "io exception": the cause (a TLS handshake refused,
        // a reset, a timeout) is what the operator needs.
        if (status.getCause() != null && description != null && !description.isBlank()) {
            String cause = rootMessage(status.getCause());
            if (!description.contains(cause)) {
                detail = description + ": " + cause;
            }
        }
        return switch (status.getCode()) {
            case UNAVAILABLE -> new CliFailure(ExitCode.UNREACHABLE,
                    "coordinator " + address + " unavailable (" + detail + "); is it running? set --coordinator or "
                            + CoordinatorAddress.ENV, e);
            case DEADLINE_EXCEEDED -> new CliFailure(ExitCode.UNREACHABLE,
                    "coordinator " + address + " did not answer in time to " + what
                            + " (raise " + Deadlines.ENV + " on slow hosts)", e);
            case NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS, PERMISSION_DENIED,
                    UNAUTHENTICATED, OUT_OF_RANGE, RESOURCE_EXHAUSTED ->
                    new CliFailure(ExitCode.REFUSED, "cannot " + what + ": " + detail, e);
            case CANCELLED -> new CliFailure(ExitCode.INTERNAL, "call to " + what + " was cancelled: " + detail, e);
            default -> new CliFailure(ExitCode.INTERNAL,
                    "coordinator failed to " + what + ": " + status.getCode() + ": " + detail, e);
        };
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName();
    }
}
