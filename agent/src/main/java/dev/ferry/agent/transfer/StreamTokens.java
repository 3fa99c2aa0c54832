package dev.ferry.agent.transfer;

import com.google.protobuf.ByteString;
import dev.ferry.service.auth.PeerIdentity;
import io.grpc.Status;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The stream tokens the destination expects, armed by PrepareReceive (the coordinator issues one
 * per migration and hands it to both agents), checked on every PushRound/PushImages header. A
 * token is bound to the source host PrepareReceive named: over mutual TLS only the agent whose
 * certificate names that host (its CN) may use it, so a token leaked to another agent is useless.
 * Thread-safe.
 */
public final class StreamTokens {
  private record Armed(ByteString token, String sourceHost) {
  }

  private final ConcurrentMap<String, Armed> tokens = new ConcurrentHashMap<>();

  /** Arms {@code token} for streams from any agent (no source host known). */
  public void arm(String migrationId, ByteString token) {
    arm(migrationId, token, "");
  }

  /** Arms {@code token} for streams from the agent whose certificate names {@code sourceHost} ("" = any). */
  public void arm(String migrationId, ByteString token, String sourceHost) {
    tokens.put(migrationId, new Armed(token, sourceHost));
  }

  public void disarm(String migrationId) {
    tokens.remove(migrationId);
  }

  /** Whether {@code token} is the one armed for {@code migrationId} (constant-time compare). */
  public boolean matches(String migrationId, ByteString token) {
    Armed armed = tokens.get(migrationId);
    return armed != null && MessageDigest.isEqual(armed.token().toByteArray(), token.toByteArray());
  }

  /**
   * Why a stream header presenting {@code token} must be refused (PERMISSION_DENIED with a
   * description), or empty to admit it. Reads the calling agent from the gRPC Context, so call
   * it on the call's own thread; without a verified caller (explicit insecure mode) only the token
   * counts.
   */
  public Optional<Status> refusal(String migrationId, ByteString token) {
    if (!matches(migrationId, token)) {
      return Optional.of(Status.PERMISSION_DENIED.withDescription("migration " + migrationId
          + ": wrong or unarmed stream token (PrepareReceive first)"));
    }
    String expected = tokens.getOrDefault(migrationId, new Armed(ByteString.EMPTY, "")).sourceHost();
    Optional<PeerIdentity> caller = PeerIdentity.current();
    if (!expected.isEmpty() && caller.isPresent() && caller.get().verified() && !caller.get().commonName().equals(expected)) {
      return Optional.of(Status.PERMISSION_DENIED.withDescription("migration " + migrationId + " streams from "
          + expected + ", not from " + caller.get().describe()));
    }
    return Optional.empty();
  }

  public boolean armed(String migrationId) {
    return tokens.containsKey(migrationId);
  }
}
