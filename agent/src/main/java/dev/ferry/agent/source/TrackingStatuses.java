package dev.ferry.agent.source;

import dev.ferry.agent.tracking.TrackingException;
import io.grpc.Status;

/** TrackingException.Reason to gRPC status, one to one (see the reasons' documentation). */
public final class TrackingStatuses {
  private TrackingStatuses() {}

  public static Status of(TrackingException e) {
    Status base = switch (e.reason()) {
      case NO_SUCH_PROCESS, PROCESS_EXITED -> Status.NOT_FOUND;
      case KERNEL_THREAD, AGENT_ITSELF, UNSUPPORTED -> Status.FAILED_PRECONDITION;
      case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
      case IO_ERROR -> Status.INTERNAL;
    };
    return base.withDescription(e.getMessage()).withCause(e);
  }
}
