package dev.ferry.agent.criu;

import dev.ferry.proto.AgentCapabilities;

/** Whether CRIU can checkpoint and restore on this host: a typed result, not an exception. */
public sealed interface CriuStatus {

  /** `criu check` passed. */
  record Usable(String version) implements CriuStatus {}

  /** No criu executable. */
  record Missing(String detail) implements CriuStatus {}

  /** criu is installed but `criu check` fails (kernel features, permissions...). */
  record Unusable(String version, String reason) implements CriuStatus {}

  default boolean usable() {
    return this instanceof Usable;
  }

  /** One line for an operator: "CRIU 3.17.1 usable", "CRIU missing: ...". */
  default String describe() {
    if (this instanceof Usable u) {
      return "CRIU " + u.version() + " usable";
    } else if (this instanceof Missing m) {
      return "CRIU missing: " + m.detail();
    } else {
      Unusable u = (Unusable) this;
      return "CRIU " + u.version() + " unusable: " + u.reason();
    }
  }

  /** Fills criu_version, criu_usable, criu_detail. */
  default AgentCapabilities.Builder publishTo(AgentCapabilities.Builder caps) {
    if (this instanceof Usable u) {
      return caps.setCriuVersion(u.version()).setCriuUsable(true).setCriuDetail("");
    } else if (this instanceof Missing m) {
      return caps.setCriuVersion("").setCriuUsable(false).setCriuDetail(m.detail());
    } else {
      Unusable u = (Unusable) this;
      return caps.setCriuVersion(u.version()).setCriuUsable(false).setCriuDetail(u.reason());
    }
  }
}
