package dev.ferry.agent.memory;

/** Result of the soft-dirty probe: a typed "unsupported", never an exception. */
public sealed interface SoftDirtySupport {
  /** One line for logs and AgentCapabilities.soft_dirty_detail. */
  String detail();

  default boolean available() {
    return this instanceof Available;
  }

  /** Bit 55 was clear after clear_refs and set after a write. */
  record Available(String detail) implements SoftDirtySupport {}

  /** Why soft-dirty cannot be used here. */
  record Unavailable(String detail) implements SoftDirtySupport {}
}
