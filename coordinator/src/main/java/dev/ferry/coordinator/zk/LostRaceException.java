package dev.ferry.coordinator.zk;

/**
 * A compare-and-set found another version than the one read: someone else (another coordinator,
 * a concurrent request) changed the migration. Never retried blindly; the caller answers ABORTED.
 */
public final class LostRaceException extends Exception {
  private static final long serialVersionUID = 1L;

  public LostRaceException(String message) {
    super(message);
  }
}
