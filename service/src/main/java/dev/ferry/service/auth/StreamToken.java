package dev.ferry.service.auth;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * The one-time token that admits a source agent's page stream to a destination: the coordinator
 * issues it per migration ({@link #generate()}), hands it to the destination in
 * PrepareReceiveRequest.stream_token and to the source in StartTrackingRequest.stream_token; the
 * source repeats it in every RoundHeader/ImageHeader; the destination compares with
 * {@link #admit}. Compared in constant time; never printed.
 *
 * <p>Valid until the destination disarms it (commit, discard): "one-time" means one migration.
 */
public final class StreamToken {

    /** 256 bits from the system's CSPRNG. */
    public static final int LENGTH_BYTES = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] bytes;

    private StreamToken(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A fresh random token (coordinator side). */
    public static StreamToken generate() {
        byte[] b = new byte[LENGTH_BYTES];
        RANDOM.nextBytes(b);
        return new StreamToken(b);
    }

    /**
     * The token a PrepareReceiveRequest arms (destination side). INVALID_ARGUMENT if it is not
     * {@value #LENGTH_BYTES} bytes: a short or empty token would be guessable.
     */
    public static StreamToken arm(ByteString presented) {
        if (presented.size() != LENGTH_BYTES) {
            throw Status.INVALID_ARGUMENT
                    .withDescription("stream_token must be " + LENGTH_BYTES + " bytes, got " + presented.size())
                    .asRuntimeException();
        }
        return new StreamToken(presented.toByteArray());
    }

    public ByteString toByteString() {
        return ByteString.copyFrom(bytes);
    }

    /**
     * Why a stream presenting {@code presented} must be refused, or empty to admit it:
     * UNAUTHENTICATED when the token is missing, PERMISSION_DENIED when it is wrong or when the
     * calling agent's certificate names a host other than {@code expectedSourceHost} (skipped
     * when that is empty or the server runs insecure). Reads the caller from the gRPC Context.
     */
    public Optional<Status> admit(ByteString presented, String migrationId, String expectedSourceHost) {
        if (presented.isEmpty()) {
            return Optional.of(Status.UNAUTHENTICATED.withDescription("page stream for migration " + migrationId + " carries no stream_token"));
        }
        if (!MessageDigest.isEqual(bytes, presented.toByteArray())) {
            return Optional.of(Status.PERMISSION_DENIED.withDescription("wrong stream_token for migration " + migrationId));
        }
        Optional<PeerIdentity> caller = PeerIdentity.current();
        if (!expectedSourceHost.isEmpty() && caller.isPresent() && caller.get().verified()
                && !caller.get().commonName().equals(expectedSourceHost)) {
            return Optional.of(Status.PERMISSION_DENIED.withDescription("migration " + migrationId + " streams from "
                    + expectedSourceHost + ", not from " + caller.get().commonName()));
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "StreamToken[redacted]";
    }
}
