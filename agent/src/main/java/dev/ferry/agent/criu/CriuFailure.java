package dev.ferry.agent.criu;

/**
 * CRIU could not do what was asked. The message names the command and CRIU's reason; {@link
 * #logTail()} holds the last lines of CRIU's own log for the operator.
 */
public final class CriuFailure extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why CRIU failed; maps to a gRPC status at the service edge. */
  public enum Reason {
    /** No criu executable. gRPC FAILED_PRECONDITION. */
    MISSING,
    /** criu ran and exited non-zero. gRPC ABORTED (the migration rolls back). */
    FAILED,
    /** criu did not finish within its deadline and was killed. gRPC DEADLINE_EXCEEDED. */
    TIMED_OUT,
    /** The images CRIU left are not what they should be (no stats, no pid file). gRPC DATA_LOSS. */
    BAD_OUTPUT,
    /** Setting up or reading the image dirs failed. gRPC INTERNAL. */
    IO_ERROR
  }

  private final Reason reason;
  private final String logTail;

  public CriuFailure(Reason reason, String message, String logTail) {
    super(message);
    this.reason = reason;
    this.logTail = logTail == null ? "" : logTail;
  }

  public CriuFailure(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.logTail = "";
  }

  public Reason reason() {
    return reason;
  }

  public String logTail() {
    return logTail;
  }

  /**
   * The gRPC status for this failure, with {@link #describe()} as its description: MISSING is
   * FAILED_PRECONDITION (the host cannot do it), FAILED is ABORTED (roll back, maybe retry),
   * TIMED_OUT is DEADLINE_EXCEEDED, BAD_OUTPUT is DATA_LOSS, IO_ERROR is INTERNAL.
   */
  public io.grpc.Status toStatus() {
    io.grpc.Status s = switch (reason) {
      case MISSING -> io.grpc.Status.FAILED_PRECONDITION;
      case FAILED -> io.grpc.Status.ABORTED;
      case TIMED_OUT -> io.grpc.Status.DEADLINE_EXCEEDED;
      case BAD_OUTPUT -> io.grpc.Status.DATA_LOSS;
      case IO_ERROR -> io.grpc.Status.INTERNAL;
    };
    return s.withDescription(describe()).withCause(this);
  }

  /** The message and the log tail, as one description for a gRPC Status or a migration record. */
  public String describe() {
    return logTail.isEmpty() ? getMessage() : getMessage() + "; CRIU log tail:\n" + logTail;
  }
}
