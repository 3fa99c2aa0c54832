package dev.ferry.agent.transfer;

import dev.ferry.agent.store.StoreException;
import io.grpc.Status;

/** How a store failure reads as a gRPC status (the description is the exception's message). */
public final class StoreStatuses {
  private StoreStatuses() {}

  public static Status of(StoreException e) {
    Status base = switch (e.kind()) {
      case DISK_FULL -> Status.RESOURCE_EXHAUSTED;
      case UNWRITABLE, REJECTED -> Status.FAILED_PRECONDITION;
      case BUSY -> Status.ABORTED;
      case CORRUPT -> Status.DATA_LOSS;
      case NOT_FOUND -> Status.NOT_FOUND;
      case IO -> Status.INTERNAL;
    };
    return base.withDescription(e.getMessage()).withCause(e);
  }
}
