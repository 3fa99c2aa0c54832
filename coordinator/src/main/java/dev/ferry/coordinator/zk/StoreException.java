package dev.ferry.coordinator.zk;

/**
 * Why the store could not answer. {@link Kind#UNAVAILABLE}: ZooKeeper unreachable or failing
 * (retry later); {@link Kind#NOT_FOUND}: no such migration; {@link Kind#PID_BUSY}: the pid is
 * already being migrated (the message names the migration).
 */
public final class StoreException extends Exception {
  private static final long serialVersionUID = 1L;

  public enum Kind { UNAVAILABLE, NOT_FOUND, PID_BUSY }

  private final Kind kind;

  public StoreException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
