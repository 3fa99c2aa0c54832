package dev.ferry.service.leader;

import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a coordinator that is not the leader tells a client where the leader is: its UNAVAILABLE
 * answer carries the trailer {@value #HEADER} = the leader's {@code host:port} (its gRPC address,
 * which is also its id in the election). The description says the same for people; clients read
 * the trailer, never the text. No trailer: the leader is unknown (election in progress).
 */
public final class LeaderHint {
  /** Trailer name (ASCII metadata). */
  public static final String HEADER = "ferry-leader";
  public static final Metadata.Key<String> KEY = Metadata.Key.of(HEADER, Metadata.ASCII_STRING_MARSHALLER);
  private static final Pattern HOST_PORT = Pattern.compile("[A-Za-z0-9._\\-\\[\\]:]{1,300}:\\d{1,5}");

  private LeaderHint() {}

  /** Trailers naming the leader. */
  public static Metadata trailers(String leaderAddress) {
    Metadata m = new Metadata();
    m.put(KEY, leaderAddress);
    return m;
  }

  /** The leader named by an UNAVAILABLE failure's trailers, if any and well-formed. */
  public static Optional<String> of(Throwable failure) {
    if (Status.fromThrowable(failure).getCode() != Status.Code.UNAVAILABLE) {
      return Optional.empty();
    }
    Metadata trailers = Status.trailersFromThrowable(failure);
    String leader = trailers == null ? null : trailers.get(KEY);
    return leader != null && HOST_PORT.matcher(leader).matches() ? Optional.of(leader) : Optional.empty();
  }
}
