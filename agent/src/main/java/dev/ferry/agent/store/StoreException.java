package dev.ferry.agent.store;

/**
 * A failure of the destination page store. The kind maps to a gRPC status at the service edge;
 * the message names the migration, the path and what went wrong.
 */
public final class StoreException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why the store failed. */
  public enum Kind {
    /** The disk is full (ENOSPC/EDQUOT). gRPC RESOURCE_EXHAUSTED. Nothing of the round applied. */
    DISK_FULL,
    /** The data dir cannot be created or written. gRPC FAILED_PRECONDITION. */
    UNWRITABLE,
    /** A round is already being written to this store. gRPC ABORTED. */
    BUSY,
    /** The request does not fit the store's state (wrong round, pages outside the areas). gRPC FAILED_PRECONDITION. */
    REJECTED,
    /** What is on disk is not what was written. gRPC DATA_LOSS. */
    CORRUPT,
    /** No such store. gRPC NOT_FOUND. */
    NOT_FOUND,
    /** Another I/O failure. gRPC INTERNAL with the detail. */
    IO
  }

  private final Kind kind;

  public StoreException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public StoreException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /** Classifies an I/O failure during {@code what}: ENOSPC/EDQUOT become DISK_FULL. */
  static StoreException fromIo(String what, java.io.IOException e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("No space left") || m.contains("Disk quota exceeded")) {
      return new StoreException(Kind.DISK_FULL, what + ": disk full (" + m + ")", e);
    }
    if (e instanceof java.nio.file.AccessDeniedException || m.contains("Read-only file system")
        || m.contains("Permission denied")) {
      return new StoreException(Kind.UNWRITABLE, what + ": not writable (" + m + ")", e);
    }
    return new StoreException(Kind.IO, what + ": " + e, e);
  }
}
