package dev.ferry.coordinator.policy;

import java.time.Duration;
import java.util.Locale;

/** A data rate in bytes per second; {@link #UNLIMITED} stands for "no cap". */
public record Bandwidth(double bytesPerSecond) {
  public static final Bandwidth UNLIMITED = new Bandwidth(Double.POSITIVE_INFINITY);
  public static final Bandwidth NONE = new Bandwidth(0);

  public Bandwidth {
    if (Double.isNaN(bytesPerSecond) || bytesPerSecond < 0) {
      throw new IllegalArgumentException("bad bandwidth: " + bytesPerSecond);
    }
  }

  public static Bandwidth ofMiBPerSecond(double mib) {
    return new Bandwidth(mib * (1 << 20));
  }

  public boolean isUnlimited() {
    return Double.isInfinite(bytesPerSecond);
  }

  public boolean isKnown() {
    return bytesPerSecond > 0;
  }

  public Bandwidth min(Bandwidth other) {
    return bytesPerSecond <= other.bytesPerSecond ? this : other;
  }

  /** Time to move {@code size} at this rate; zero for nothing, infinite-ish if no rate is known. */
  public Duration timeFor(ByteSize size) {
    if (size.bytes() == 0 || isUnlimited()) {
      return Duration.ZERO;
    }
    if (!isKnown()) {
      return ChronoLimits.FOREVER;
    }
    double nanos = size.bytes() / bytesPerSecond * 1e9;
    return nanos >= ChronoLimits.FOREVER.toNanos() ? ChronoLimits.FOREVER : Duration.ofNanos((long) nanos);
  }

  @Override
  public String toString() {
    if (isUnlimited()) {
      return "unlimited";
    }
    return String.format(Locale.ROOT, "%.1f MiB/s", bytesPerSecond / (1 << 20));
  }
}
