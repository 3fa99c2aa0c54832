package dev.ferry.agent.transfer;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The stream tokens the destination expects, armed by PrepareReceive (the coordinator issues one
 * per migration and hands it to both agents), checked on every PushRound/PushImages header.
 * Thread-safe.
 */
public final class StreamTokens {
  private final ConcurrentMap<String, ByteString> tokens = new ConcurrentHashMap<>();

  public void arm(String migrationId, ByteString token) {
    tokens.put(migrationId, token);
  }

  public void disarm(String migrationId) {
    tokens.remove(migrationId);
  }

  /** Whether {@code token} is the one armed for {@code migrationId} (constant-time compare). */
  public boolean matches(String migrationId, ByteString token) {
    ByteString expected = tokens.get(migrationId);
    return expected != null && MessageDigest.isEqual(expected.toByteArray(), token.toByteArray());
  }

  public boolean armed(String migrationId) {
    return tokens.containsKey(migrationId);
  }
}
