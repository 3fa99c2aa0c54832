package dev.ferry.agent.tracking;

/**
 * A typed failure at the /proc and process_vm_readv edge. The reason maps one-to-one to a gRPC
 * status at the service edge; the message names the pid and what went wrong.
 */
public final class TrackingException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why tracking failed. */
  public enum Reason {
    /** No such pid. gRPC NOT_FOUND. */
    NO_SUCH_PROCESS,
    /** The process exited during a round. gRPC NOT_FOUND. */
    PROCESS_EXITED,
    /** A kernel thread has no user memory to migrate. gRPC FAILED_PRECONDITION. */
    KERNEL_THREAD,
    /** The agent would migrate itself. gRPC FAILED_PRECONDITION. */
    AGENT_ITSELF,
    /** The agent lacks the right to read or trace the process. gRPC PERMISSION_DENIED. */
    PERMISSION_DENIED,
    /** The kernel lacks a needed feature (e.g. soft-dirty). gRPC FAILED_PRECONDITION. */
    UNSUPPORTED,
    /** Unexpected I/O failure reading /proc or memory. gRPC INTERNAL with the detail. */
    IO_ERROR
  }

  private final Reason reason;
  private final int pid;

  public TrackingException(Reason reason, int pid, String message) {
    super(message);
    this.reason = reason;
    this.pid = pid;
  }

  public TrackingException(Reason reason, int pid, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.pid = pid;
  }

  public Reason reason() {
    return reason;
  }

  public int pid() {
    return pid;
  }
}
